"""The training step on TensorFlow, and everything else that is TensorFlow's alone.

The GAN's whole step (`gan.train_step`, three `train_on_batch` calls for most
models) becomes one `tf.function`, as in keras.io's "custom train step in
TensorFlow" guide, with XLA where it is faster on this machine; a run of at
least `TIME_XLA_FROM_STEPS` steps times both ways once and remembers the
answer (`XLAChoices`). Under a tf.distribute strategy every replica runs it.
The other TensorFlow-only modules sit beside this one: tensorflow_devices.py
(GPU set-up) and tensorflow_distribute.py (tf.distribute); nothing else in the
zoo imports TensorFlow, except TensorBoard's event writer (common/history.py,
with --tensorboard) and precision.py's question for a TensorFlow GPU's
compute capability.
"""
import contextlib
import datetime
import json
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from common import backends, checkpoints, private
from common.backends import build_lazy_state
from common.backends import tensorflow_distribute as distribute
from common.files import cache_folder, replaced_atomically
from common.precision import cpu_name
from common.run_state import all_networks, run_state, trained_networks


def train_on_batch(model, x, y):
    """`model.train_on_batch(x, y)` as traceable operations: the model's own
    `train_step` after resetting the metrics, as `train_on_batch` does."""
    model.reset_metrics()
    return model.train_step((x, y))


# G's images for D's step: inference mode (common/backends/__init__.py).
generate = backends.generate


def make_strategy(name="default", cpu_devices=None):
    """The tf.distribute strategy `--strategy name` asks for (common/backends/tensorflow_distribute.py)."""
    return distribute.make_strategy(name, cpu_devices)


def model_strategy(gan):
    """The tf.distribute strategy `gan` was built under, or None."""
    return distribute.model_strategy(gan)


def strategy_scope(gan):
    """The scope `fit` trains in: the model's strategy's (its optimizers build
    their states at the first step), unless already inside it."""
    strategy = distribute.model_strategy(gan)
    if strategy is None or tf.distribute.has_strategy():
        return contextlib.nullcontext()
    return strategy.scope()


def is_chief(gan):
    """Whether this process writes the run's files (worker 0 of a multi-worker run)."""
    return distribute.is_chief(distribute.model_strategy(gan))


_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                 keras.layers.Conv3D)


def use_xla(gan):
    """Whether to compile `gan`'s training step with XLA.

    On a GPU, yes: XLA fuses the many small kernels of a GAN step. On a CPU it
    depends on the layers and on the processor: XLA fuses an MLP's small
    kernels, while TensorFlow's oneDNN convolutions can beat XLA's CPU code
    (docs/results.md, "XLA against no XLA on CPUs"). So, until a run long
    enough to time both ways says otherwise (`TIME_XLA_FROM_STEPS`), on a CPU:
    XLA for networks without convolutions only.
    """
    if tf.config.list_logical_devices("GPU"):
        return True
    layers = [layer for model in all_networks(gan)
              for layer in private.all_layers(model)]
    return not any(isinstance(layer, _CONVOLUTIONS) for layer in layers)


def match_xla(gan, jit_compile=None):
    """Compile the trained networks' own `train_on_batch` (D's, the combined
    model's) with the same XLA choice as the fused step, so that both draw
    dropout masks from the same random-number implementation and a
    hand-written loop gets the same speed-up."""
    jit_compile = use_xla(gan) if jit_compile is None else jit_compile
    for model, _ in trained_networks(gan):
        model.jit_compile = jit_compile
    return jit_compile


# A run this long times both ways of compiling its step on a CPU and keeps the
# faster (a few seconds); a shorter one keeps `use_xla`'s rule of thumb.
TIME_XLA_FROM_STEPS = 500


def time_xla(gan, batch_size, steps=6):
    """Seconds per step of `gan.train_step` compiled with XLA and without, on
    this machine: {True: (seconds, step function), False: (...)}, the median
    of `steps` steps each, taken in turns so that both see the machine alike.
    Every variable of the run (weights, optimizer states, seeds) is restored
    afterwards, whatever happens, and the batches come from their own random
    generator, so the run goes on as if this had not happened. A step XLA
    cannot compile (a layer it does not know) takes infinitely long."""
    state = checkpoints._state_variables(gan)
    saved = [np.array(v.numpy(), copy=True) for v in state]
    batches = [gan.draw_batch(np.random.default_rng(i), batch_size) for i in range(steps + 2)]
    functions = {jit: tf.function(gan.train_step, jit_compile=jit, reduce_retracing=True)
                 for jit in (False, True)}
    seconds = {True: [], False: []}
    try:
        for i, batch in enumerate(batches):
            for jit_compile, step in list(functions.items()):
                tick = time.perf_counter()
                try:
                    _to_floats(step(*batch))
                except tf.errors.OpError:
                    if not jit_compile:
                        raise
                    del functions[True]  # XLA cannot compile this step: time it no more
                    seconds[True] = [float("inf")]
                    continue
                if i >= 2:  # the first two trace, compile and warm up
                    seconds[jit_compile].append(time.perf_counter() - tick)
    finally:
        for variable, value in zip(state, saved):
            variable.assign(value)
    return {jit: (float(np.median(seconds[jit])), functions.get(jit)) for jit in (True, False)}


def _falling_back_without_xla(gan, step):
    """`step` (compiled with XLA) that, if XLA cannot compile it at its first
    call (a user layer XLA does not know), switches to a plain graph for the
    rest of the run instead of ending it. Nothing has run when compiling
    fails, so no variable has changed."""
    current = {"step": step, "compiled": False}

    def run(*batch):
        if current["compiled"]:
            return current["step"](*batch)
        try:
            logs = step(*batch)
        except tf.errors.OpError as error:
            first_line = (str(error).strip().splitlines() or [""])[0][:200]
            print(f"Note: XLA could not compile the training step ({type(error).__name__}: "
                  f"{first_line}); training without XLA.", file=sys.stderr)
            gan.jit_compile = match_xla(gan, False)
            current["step"] = tf.function(gan.train_step, jit_compile=False, reduce_retracing=True)
            logs = current["step"](*batch)
        current["compiled"] = True
        return logs
    return run


def compiled_step(gan, jit_compile=None, batch_size=None, steps=0, verbose=False):
    """`gan.train_step` compiled once into one graph (kept in its `run_state`).

    `jit_compile=None` chooses: XLA on a GPU; on a CPU, for a run of at least
    `TIME_XLA_FROM_STEPS` steps of `batch_size`, whichever of XLA and a plain
    graph is faster here (`time_xla`), else `use_xla`'s rule of thumb. Under a
    tf.distribute strategy, no XLA unless asked: Keras itself turns XLA off
    there, and XLA would have to compile the replicas' collectives too. A step
    XLA cannot compile falls back to a plain graph. The choice is kept in
    `gan.jit_compile` (and in checkpoints, for --resume)."""
    step = run_state(gan).compiled_step
    if step is not None:
        return step
    if jit_compile is None and getattr(gan, "no_xla_because", None):
        jit_compile = False  # a model that says XLA cannot compile its step
    strategy = distribute.model_strategy(gan)
    if strategy is not None:  # every replica runs the step (common/backends/tensorflow_distribute.py)
        if jit_compile is None or not tf.config.list_logical_devices("GPU"):
            jit_compile = False  # XLA cannot compile the replicas' collectives on a CPU
        gan.jit_compile = match_xla(gan, jit_compile)
        run_state(gan).compiled_step = distribute.distributed_step(gan, strategy, gan.jit_compile)
        return run_state(gan).compiled_step
    build_lazy_state(gan)  # else the first trace creates them, and traces again
    if (jit_compile is None and batch_size and steps >= TIME_XLA_FROM_STEPS
            and not tf.config.list_logical_devices("GPU")):
        choices = XLAChoices()
        key = choices.key(gan, batch_size)
        remembered = choices.get(key)
        if remembered is not None:
            jit_compile = remembered["jit_compile"]
            if verbose:
                print(f"Training step compiled {'with' if jit_compile else 'without'} XLA "
                      f"(remembered from {remembered['date']}: {remembered['xla_ms']:.0f} ms/step "
                      f"with XLA, {remembered['plain_ms']:.0f} without; file {choices.path}, "
                      "delete it to time again).")
        else:
            timings = time_xla(gan, batch_size)
            jit_compile = timings[True][0] < timings[False][0]
            step = timings[jit_compile][1]
            choices.put(key, jit_compile, timings[True][0], timings[False][0])
            if verbose:
                print(f"Training step compiled {'with' if jit_compile else 'without'} XLA: "
                      f"{1e3 * timings[True][0]:.0f} ms/step with XLA, "
                      f"{1e3 * timings[False][0]:.0f} ms without, timed on this CPU "
                      f"(remembered in {choices.path}).")
    gan.jit_compile = match_xla(gan, jit_compile)
    if step is None:
        step = tf.function(gan.train_step, jit_compile=gan.jit_compile, reduce_retracing=True)
        if gan.jit_compile:
            step = _falling_back_without_xla(gan, step)
    run_state(gan).compiled_step = step
    return step


def _to_floats(logs):
    return {name: float(value) for name, value in logs.items()}


class XLAChoices:
    """Whether XLA made a model's step faster, as timed once per machine, model,
    batch and library versions: a JSON file under the user's Keras folder
    (`~/.keras/keras_gan_zoo/xla_choices.json`; the KERAS_GAN_ZOO_CACHE
    environment variable names another folder), so that timing both ways
    (seconds) happens on the first run only. A file that cannot be read or
    written is ignored: the run times again."""

    def __init__(self, folder=None):
        self.path = os.path.join(folder or cache_folder(), "xla_choices.json")

    @staticmethod
    def key(gan, batch_size):
        """What the timing depends on: this CPU, the model's class, networks,
        precision and batch shapes, and the versions of TensorFlow and Keras
        (XLA's CPU code and oneDNN's gain differently from 16-bit)."""
        batch = gan.draw_batch(np.random.default_rng(0), batch_size)
        return json.dumps({
            "machine": f"{cpu_name()} x{os.cpu_count()}",
            "model": f"{type(gan).__module__}.{type(gan).__qualname__}",
            "parameters": [network.count_params() for network in gan.networks().values()],
            "batch": [list(np.shape(a)) for a in batch],
            "precision": getattr(gan, "precision", "float32"),
            "backend": "tensorflow", "tensorflow": tf.__version__, "keras": keras.__version__,
        }, sort_keys=True)

    def _read(self):
        try:
            with open(self.path) as handle:
                choices = json.load(handle)
            return choices if isinstance(choices, dict) else {}
        except (OSError, ValueError):
            return {}

    def get(self, key):
        entry = self._read().get(key)
        if isinstance(entry, dict) and isinstance(entry.get("jit_compile"), bool):
            return entry
        return None

    def put(self, key, jit_compile, xla_seconds, plain_seconds):
        choices = self._read()
        choices[key] = {"jit_compile": bool(jit_compile), "xla_ms": 1e3 * xla_seconds,
                        "plain_ms": 1e3 * plain_seconds,
                        "date": datetime.date.today().isoformat()}
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with replaced_atomically(self.path) as tmp, open(tmp, "w") as handle:
                json.dump(choices, handle, indent=1)
        except OSError:
            pass  # not remembered: the next run times again



def input_gradient(fn, x):
    """The gradient of `sum(fn(x))` with respect to `x` (common/gradients.py),
    by a tape of its own: inside a `tf.function`, and inside the tape of the
    step's loss, which records this tape's gradient too (a second derivative).
    Zeros where `fn` does not depend on `x`."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(fn(x))
    return tape.gradient(total, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
