"""Training plumbing shared by every model: the compiled step, the loop,
sample and model saving, progress.

A model class supplies the recipe:
  - `train_step(*batch)`: one step of D and G updates, written with
    `train_on_batch` below, returning a dict of scalar logs;
  - `draw_batch(rng, batch_size)`: the arrays one step consumes (real images,
    noise, labels) drawn with the numpy Generator `rng`;
  - `sample_images(step)`, `generator`, `discriminator`, `out_dir`.
`fit` runs that recipe: it compiles `train_step` once into a single
`tf.function` (XLA on GPUs, see `use_xla`), so a step costs one call instead of the
three `train_on_batch` calls and the `predict` of Keras-GAN's loop.
"""
import inspect
import os
import signal
import sys
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from common import checkpoints
from common.errors import UserError
from common.history import History, sample_frames, write_gif


def binary_accuracy(y_true, y_pred):
    """Real/fake accuracy that also reads smoothed targets (0.9) as "real"."""
    return keras.ops.mean(keras.ops.cast(
        keras.ops.equal(y_true > 0.5, y_pred > 0.5), "float32"), axis=-1)


def train_on_batch(model, x, y):
    """`model.train_on_batch(x, y)` as traceable operations, for compiled steps.

    It runs the model's own `train_step` (the forward pass, the compiled loss,
    the optimizer update and the metrics, or whatever a subclass overrides),
    after resetting the metrics as `train_on_batch` does, so a fused step
    computes exactly the updates of the explicit calls. Returns the logs dict.
    """
    model.reset_metrics()
    return model.train_step((x, y))


# ---------------------------------------------------------------------------
# Where outputs go
# ---------------------------------------------------------------------------

def default_out_dir(obj):
    """The folder of the file that defines `obj`'s class (dcgan/ for DCGAN),
    whatever the working directory; the working directory when there is none."""
    try:
        return os.path.dirname(os.path.abspath(inspect.getfile(type(obj))))
    except (TypeError, OSError):
        return os.getcwd()


def prepare_out_dir(out_dir):
    """Create `out_dir`/images and `out_dir`/saved_model, and prove they can be
    written, before any training time is spent."""
    try:
        for sub in ("images", "saved_model"):
            os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
        probe = os.path.join(out_dir, ".write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as error:
        raise UserError(f"Output folder {out_dir} cannot be written ({error.strerror}): "
                        "choose another with --out.") from None
    return out_dir


def save_model_atomically(model, path):
    """Write `model` to `path` (.keras) through a temporary file, so a run
    killed mid-save never leaves a broken file under the final name."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f"tmp-{os.getpid()}-{name}")
    model.save(tmp)
    os.replace(tmp, path)
    return path


def save_models(gan):
    """Save the generator and discriminator under `<out>/saved_model/`."""
    folder = os.path.join(gan.out_dir, "saved_model")
    os.makedirs(folder, exist_ok=True)
    return (save_model_atomically(gan.generator, os.path.join(folder, "generator.keras")),
            save_model_atomically(gan.discriminator, os.path.join(folder, "discriminator.keras")))


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------

def use_xla():
    """Whether to compile the training step with XLA: on GPUs it fuses kernels
    and helps; on CPUs TensorFlow's oneDNN kernels were faster (DCGAN, batch
    32, Xeon with AVX-512: 235 ms/step in a plain graph, 310 ms with XLA) and
    XLA draws different dropout masks than the explicit `train_on_batch` calls."""
    return bool(tf.config.list_logical_devices("GPU"))


def compiled_step(gan, jit_compile=None):
    """`gan.train_step` compiled once into one graph (cached on the instance);
    `jit_compile=None` chooses XLA with `use_xla()`."""
    step = getattr(gan, "_compiled_train_step", None)
    if step is None:
        if jit_compile is None:
            jit_compile = use_xla()
        step = tf.function(gan.train_step, jit_compile=jit_compile, reduce_retracing=True)
        gan._compiled_train_step = step
    return step


def _to_floats(logs):
    return {name: float(value) for name, value in logs.items()}


class _StopRequest:
    """Ctrl-C (SIGINT) asks the loop to stop after the current step, so the
    checkpoint it saves is exactly the state after a whole step; a second
    Ctrl-C interrupts at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def fit(gan, epochs, batch_size=32, sample_interval=50, quiet=False, resume=False,
        tensorboard=False, evaluate=None, eval_interval=None, jit_compile=None):
    """Train `gan` until `epochs` steps are done (one "epoch" is one batch, as in Keras-GAN).

    Every `sample_interval` steps and at the end it writes a sample grid to
    `<out>/images/`, the generator and discriminator to `<out>/saved_model/`,
    a checkpoint to `<out>/checkpoints/`, `<out>/history.csv` and the loss
    plot `<out>/losses.png`; the run ends with `<out>/samples.gif`.

    Args:
        resume: continue from `<out>/checkpoints/latest.npz` (same weights,
            optimizer states, random state and step count as when it was saved).
        tensorboard: also write TensorBoard events to `<out>/logs/`.
        evaluate: optional function `gan -> dict of metrics`, recorded in the
            history every `eval_interval` steps and at the end.
        jit_compile: XLA for the step; None chooses (see `use_xla`).

    Ctrl-C stops after the current step with a checkpoint saved, then raises
    KeyboardInterrupt. A loss that is not finite stops the run (UserError)
    without overwriting the last good checkpoint. Returns the last step's logs;
    `gan.fit_timing` holds the seconds of each step, and those spent around
    the steps (history, sampling, saving, evaluation, progress), for benchmarks/.
    """
    if epochs < 1 or batch_size < 1 or sample_interval < 1:
        raise UserError("epochs, batch_size and sample_interval must be positive integers.")
    prepare_out_dir(gan.out_dir)
    done = 0
    if resume:
        done = checkpoints.load_checkpoint(gan)["step"]
        if not quiet:
            print(f"Resuming from step {done:,} ({checkpoints.checkpoint_path(gan.out_dir)}).")
    history = History(gan.out_dir, resume_step=done if resume else None, tensorboard=tensorboard)
    step_fn = compiled_step(gan, jit_compile)
    progress = None if quiet else keras.utils.Progbar(epochs, interval=0.5, unit_name="step")
    if progress is not None and done:
        progress.update(done)
    started, start_step = time.perf_counter(), done
    logs, last_sample = {}, None
    step_seconds, overhead_seconds = [], 0.0

    def save_everything(step):
        history.flush()
        history.plot()
        save_models(gan)
        return checkpoints.save_checkpoint(gan, step + 1)

    with _StopRequest() as stop:
        for step in range(done, epochs):
            tick = time.perf_counter()
            logs = _to_floats(step_fn(*gan.draw_batch(gan.rng, batch_size)))
            tock = time.perf_counter()
            step_seconds.append(tock - tick)
            if not all(np.isfinite(v) for v in logs.values()):
                history.close()
                raise UserError(
                    f"Training diverged at step {step}: a loss is not finite ({logs}); the last "
                    f"good checkpoint is kept in {os.path.dirname(checkpoints.checkpoint_path(gan.out_dir))}.")
            history.record(step, logs)
            last = step == epochs - 1
            if evaluate is not None and eval_interval and (step % eval_interval == 0 or last):
                history.record(step, evaluate(gan))
            if step % sample_interval == 0 or last or stop.requested:
                last_sample = gan.sample_images(step)
                if last_sample:
                    history.image(step, last_sample)
                path = save_everything(step)
            if progress is not None and (step % 10 == 0 or last):
                progress.update(step + 1, values=list(logs.items()), finalize=last)
            overhead_seconds += time.perf_counter() - tock
            if stop.requested:
                history.close()
                print(f"\nStopped after step {step + 1:,} of {epochs:,}: checkpoint saved to "
                      f"{path}. Continue with --resume (and the same --out).", file=sys.stderr)
                raise KeyboardInterrupt
    history.close()
    if last_sample:
        tick = time.perf_counter()
        write_gif(sample_frames(last_sample), os.path.join(gan.out_dir, "samples.gif"))
        overhead_seconds += time.perf_counter() - tick
    gan.fit_timing = {"step_seconds": step_seconds, "overhead_seconds": overhead_seconds}
    elapsed = time.perf_counter() - started
    steps_run = epochs - start_step
    if not quiet and steps_run:
        print(f"Trained {steps_run:,} steps in {elapsed:.0f} s ({steps_run / elapsed:.1f} steps/s). "
              f"Samples in {os.path.join(gan.out_dir, 'images')}, models in "
              f"{os.path.join(gan.out_dir, 'saved_model')}.")
        skipped = getattr(getattr(gan, "dataset", None), "skipped", 0)
        if skipped:
            print(f"Skipped {skipped} unreadable image file(s).")
    return logs
