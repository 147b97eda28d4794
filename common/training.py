"""Training plumbing shared by every model: the compiled step, the loop,
sample and model saving, progress.

A model class supplies the recipe:
  - `train_step(*batch)`: one step of D and G updates, written with
    `train_on_batch` below, returning a dict of scalar logs;
  - `draw_batch(rng, batch_size)`: the arrays one step consumes (real images,
    noise, labels) drawn with the numpy Generator `rng`;
  - `sample_images(step)`, `generator`, `discriminator`, `out_dir`;
  - `config()` (optional): the settings that make the model, which a
    checkpoint records and --resume checks (common/checkpoints.py).
`fit` runs that recipe: it compiles `train_step` once into a single function
on the Keras backend in use (common/backends/: a `tf.function` on TensorFlow,
a `jax.jit` on JAX, a recorded graph of PyTorch operations on PyTorch), so a
step costs one call instead of the three
`train_on_batch` calls and the `predict` of Keras-GAN's loop. This module
itself speaks keras, keras.ops and numpy only.
"""
import contextlib
import csv
import inspect
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

import keras
import numpy as np

from common import backends, checkpoints
from common.errors import UserError
from common.evaluation import save_class_names
from common.files import remove_stale_partials, replaced_atomically
from common.history import History, sample_frames, write_gif
from common.precision import resume_precision, saved_in_float32
from common.run_lock import RunLock


def binary_accuracy(y_true, y_pred):
    """Real/fake accuracy that also reads smoothed targets (0.9) as "real"."""
    return keras.ops.mean(keras.ops.cast(
        keras.ops.equal(y_true > 0.5, y_pred > 0.5), "float32"), axis=-1)


# `model.train_on_batch(x, y)` as operations a compiled step can trace, on the
# backend Keras runs on (the function itself: nothing to look up while tracing).
train_on_batch = backends.current().train_on_batch
# G's images for D's step, as Keras-GAN's `generator.predict(noise)`: inference
# mode, and on PyTorch without recording an autograd graph nobody uses.
generate = backends.current().generate


def set_random_seed(seed):
    """`keras.utils.set_random_seed(seed)`: Python's, NumPy's and Keras' random
    generators (and TensorFlow's where it is loaded), without importing
    TensorFlow on JAX or PyTorch only to seed it (seconds; common/backends/)."""
    with backends.tensorflow_left_unloaded():
        keras.utils.set_random_seed(seed)


# ---------------------------------------------------------------------------
# Where outputs go
# ---------------------------------------------------------------------------

def default_out_dir(obj):
    """The folder of the file that defines `obj`'s class (dcgan/ for DCGAN),
    whatever the working directory; the working directory when there is none.

    When the zoo is installed as a package (`pip install .`), that folder is
    in site-packages, or cannot be written: runs then go to a folder of the
    same name under the working directory (./dcgan), and the run says so."""
    try:
        folder = os.path.dirname(os.path.abspath(inspect.getfile(type(obj))))
    except (TypeError, OSError):
        return os.getcwd()
    installed = {"site-packages", "dist-packages"} & set(folder.split(os.sep))
    if installed or not os.access(folder, os.W_OK):
        fallback = os.path.join(os.getcwd(), os.path.basename(folder))
        print(f"Note: {folder} is {'an installed package' if installed else 'not writable'}; "
              f"outputs go to {fallback} (choose another with --out).", file=sys.stderr)
        return fallback
    return folder


# What a run writes into its --out folder (and all that --overwrite removes).
RUN_OUTPUTS = ("images", "saved_model", "checkpoints", "logs", "history.csv", "losses.png",
               "samples.gif")
_GRID = re.compile(r"^[a-z]+_(\d+)\.png$")  # a sample grid: mnist_1200.png


def earlier_run(out_dir):
    """Whether `out_dir` holds a run's checkpoint, history or sample grids, and
    the step that run reached: (True, step or None), or (False, None)."""
    meta = checkpoints.read_meta(out_dir)
    if meta is not None:
        return True, meta.get("step")
    history = os.path.join(out_dir, "history.csv")
    if os.path.isfile(history):
        try:
            with open(history, newline="") as handle:
                return True, int(list(csv.DictReader(handle))[-1]["step"]) + 1
        except (OSError, ValueError, IndexError, KeyError, TypeError):
            return True, None
    images = os.path.join(out_dir, "images")
    grids = [int(m.group(1)) for name in (os.listdir(images) if os.path.isdir(images) else [])
             if (m := _GRID.match(name))]
    if grids or os.path.isfile(checkpoints.checkpoint_path(out_dir)):
        return True, max(grids) if grids else None
    return False, None


def claim_out_dir(out_dir, resume=False, overwrite=False):
    """Make `out_dir` ready for a run: refuse to start a new run over an earlier
    one (UserError naming --resume and --overwrite), or with `overwrite`
    remove the earlier run's outputs (`RUN_OUTPUTS`, nothing else); then
    `prepare_out_dir`. So a folder only ever holds one run, and its
    samples.gif only that run's grids."""
    if resume and overwrite:
        raise UserError("--resume continues the run in --out and --overwrite starts it over: "
                        "choose one.")
    found, step = earlier_run(out_dir)
    resumable = os.path.isfile(checkpoints.checkpoint_path(out_dir))
    if resume and not resumable:
        # Never "start without --resume" when that start would be refused in turn.
        raise UserError(
            f"No checkpoint to resume from at {checkpoints.checkpoint_path(out_dir)}"
            + (": the run there cannot be continued; start it over with --overwrite, or "
               "choose another --out." if found else
               ": start a new run there without --resume, or point --out at the folder of "
               "the run to continue."))
    if found and not resume:
        if not overwrite:
            reached = f" (at step {step:,})" if step is not None else ""
            if not resumable:
                raise UserError(
                    f"{out_dir} holds the outputs of a run{reached} but no checkpoint to "
                    "continue it from: start over with --overwrite (removes its images/, "
                    "saved_model/, logs/, history.csv, losses.png and samples.gif), or choose "
                    "another --out.")
            raise UserError(
                f"{out_dir} already holds a run{reached}: continue it with --resume, start "
                "over with --overwrite (removes its images/, saved_model/, checkpoints/, "
                "logs/, history.csv, losses.png and samples.gif), or choose another --out.")
        for name in RUN_OUTPUTS:
            path = os.path.join(out_dir, name)
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.exists(path):
                    os.remove(path)
            except OSError as error:
                raise UserError(f"--overwrite could not remove {path} ({error.strerror}).") from None
    prepare_out_dir(out_dir)
    remove_stale_partials(out_dir, *(os.path.join(out_dir, d) for d in RUN_OUTPUTS[:3]))
    return out_dir


def data_folder(dataset):
    """The folder a data set reads its images from, or None (arrays, MNIST):
    its `folder`, else the folder all its files share."""
    folder = getattr(dataset, "folder", None)
    if isinstance(folder, str):
        return folder
    paths = [path for name in ("paths", "train", "test")
             for path in (getattr(dataset, name, None) or []) if isinstance(path, str)]
    try:
        return os.path.commonpath([os.path.abspath(os.path.dirname(p)) for p in paths]) if paths else None
    except ValueError:  # files on different drives
        return None


def check_apart(data_dir, out_dir):
    """Refuse an --out inside the --data folder, or the reverse: the run would
    train on its own sample grids (or add its output folder as a class), or
    --overwrite would remove the data."""
    if not data_dir:
        return
    data_real, out_real = os.path.realpath(data_dir), os.path.realpath(out_dir)
    inside = os.path.commonpath([data_real, out_real])
    if inside == data_real:
        raise UserError(f"--out {out_dir} is inside the --data folder {data_dir}: the run would "
                        "train on its own sample grids; choose an --out outside it.")
    if inside == out_real:
        raise UserError(f"--data {data_dir} is inside the --out folder {out_dir}: a run's "
                        "outputs there could replace the images it trains on; choose an --out "
                        "that does not hold the data.")


def drop_grids_after(out_dir, step):
    """Remove the sample grids of steps at or after `step`: a resumed run
    trains them again (the interrupted run saved them, not their checkpoint)."""
    images = os.path.join(out_dir, "images")
    for name in os.listdir(images) if os.path.isdir(images) else []:
        match = _GRID.match(name)
        if match and int(match.group(1)) >= step:
            os.remove(os.path.join(images, name))


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
    """Write `model` to `path` (.keras) through a temporary file
    (`generator.partial-<pid>.keras`, removed if saving fails), so a run
    stopped mid-save never leaves a broken file under the final name."""
    with (replaced_atomically(path, keep_extension=True) as tmp, saved_in_float32(model),
          backends.tensorflow_left_unloaded()):  # seconds off TensorFlow (common/backends/)
        model.save(tmp)  # in float32: it loads and generates so on any machine
    return path


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------

def match_xla(gan, jit_compile=None):
    """Compile D's and the combined model's own `train_on_batch` as the fused
    step is compiled (on TensorFlow: the same XLA choice); returns the choice."""
    return backends.current().match_xla(gan, jit_compile)


def compiled_step(gan, jit_compile=None, batch_size=None, steps=0, verbose=False):
    """`gan.train_step` compiled once into one function, by the Keras backend's
    module in common/backends/ (cached on the instance): a `tf.function` (with
    XLA where it is faster here) on TensorFlow, a `jax.jit` of the stateless
    step on JAX, the step recorded once with torch.fx and replayed on PyTorch.
    `jit_compile` (None chooses; False: no XLA on TensorFlow, eager on JAX and
    PyTorch) is kept in `gan.jit_compile` (and in checkpoints, for --resume).

    A compiled step holds the weights each model trained, and its optimizer,
    when it was compiled: when a layer has been frozen or unfrozen since
    (`layer.trainable`) or a model compiled again, it is compiled again. It
    also holds, as constants, the Python numbers the step read (a label
    value, `n_critic`, a clip value, an optimizer's beta): when one of
    `python_settings` has changed since, it is compiled again. (A learning
    rate is a variable of its optimizer, read afresh at every step.)"""
    models = backends.held_models(gan)
    compiled_for = ([id(weight) for model in models for weight in model.trainable_weights]
                    + [id(getattr(model, "optimizer", None)) for model in models]
                    + [python_settings(gan, models)])
    if getattr(gan, "_compiled_for", compiled_for) != compiled_for:
        vars(gan).pop("_compiled_train_step", None)
    gan._compiled_for = compiled_for
    return backends.current().compiled_step(gan, jit_compile=jit_compile, batch_size=batch_size,
                                             steps=steps, verbose=verbose)


def python_settings(gan, models):
    """The plain Python values a traced, jitted or recorded step may have
    read as constants: `gan`'s public numbers, bools and strings (a label
    value, `n_critic`, a clip value) and its models' optimizers' settings
    (betas, epsilon, clipping), the learning rate aside (a variable).
    `jit_compile` is how the backend compiles, not a value the step reads."""
    scalars = (bool, int, float, str, type(None))
    settings = sorted((name, value) for name, value in vars(gan).items()
                      if not name.startswith("_") and name != "jit_compile"
                      and isinstance(value, scalars))
    for model in models:
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            config = optimizer.get_config()
            settings.append(sorted((name, repr(value)) for name, value in config.items()
                                   if name != "learning_rate"))
    return settings


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


class Snapshots:
    """What a run writes at every sample interval: the sample grid (sent to
    TensorBoard too), history.csv, the loss plot, the generator (.keras) and
    the checkpoint; at the end (`final`) also the discriminator (.keras; its
    state at every interval is in the checkpoint) and the checkpoint flushed
    to the disk. `seconds` lists the time each save took (for benchmarks/).

    A file that cannot be written (a full disk, a folder gone) ends the run
    with a UserError naming the folder; the checkpoint is written last, so the
    previous one, the last good state, is kept."""

    def __init__(self, gan, history, saved_step=None):
        self.gan, self.history = gan, history
        self.last_sample, self.checkpoint = None, None
        self.saved_step = saved_step  # the step of the last checkpoint written or resumed from
        self.seconds = []

    def save(self, step, final=False, sample=True):
        """Write the snapshot of the state after `step`; `sample=False` leaves
        the sample grid (a second save of the same step: Ctrl-C during a save
        asks for the final files too, and a grid would draw no new noise but
        take the time)."""
        tick = time.perf_counter()
        try:
            self._write(step, final, sample)
        except OSError as error:
            folder = os.path.dirname(error.filename) if error.filename else self.gan.out_dir
            kept = (f"the last good checkpoint (step {self.saved_step:,}) is kept in "
                    f"{checkpoints.checkpoint_path(self.gan.out_dir)}"
                    if self.saved_step else "no checkpoint had been written yet")
            raise UserError(f"Could not write to {folder} ({error.strerror or error}): free some "
                            f"space or choose another --out; {kept}.") from None
        self.saved_step = step + 1
        self.seconds.append(time.perf_counter() - tick)
        return self.checkpoint

    def _write(self, step, final, sample=True):
        gan, history = self.gan, self.history
        sample = gan.sample_images(step) if sample else None
        if sample:
            self.last_sample = sample
            history.image(step, sample)
        history.flush()
        history.plot()
        folder = os.path.join(gan.out_dir, "saved_model")
        save_model_atomically(gan.generator, os.path.join(folder, "generator.keras"))
        if getattr(gan, "class_names", None):  # read by common.generate --class
            save_class_names(gan.class_names, folder)
        if final:
            save_model_atomically(gan.discriminator, os.path.join(folder, "discriminator.keras"))
        self.checkpoint = checkpoints.save_checkpoint(
            gan, step + 1, {"jit_compile": gan.jit_compile, "backend": backends.name(),
                            "config": gan._run_config},
            durable=final)


class Progress:
    """The progress line: steps done out of `total`, time left, this run's
    speed (after a resume, only the steps it trained itself) and the mean of
    each log since the previous update.

    On a terminal it is one line redrawn in place twice a second; when stdout
    is a file or a pipe (a log, CI) it prints a plain line, no control
    characters, every `every` seconds, and one at the end."""

    def __init__(self, total, every=10.0, stream=None):
        self.stream = stream or sys.stdout
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.every = total, 0.5 if self.terminal else every
        self.first = None  # (time, steps) at the first step, after tracing and compiling
        self.last_print, self.width = 0.0, 0
        self.sums, self.count = {}, 0

    def update(self, steps, logs, final=False):
        """Record the logs of one step (`steps` now done); print when it is time."""
        now = time.perf_counter()
        for name, value in logs.items():
            self.sums[name] = self.sums.get(name, 0.0) + value
        self.count += 1
        if self.first is None:
            self.first = (now, steps)
        if not final and now - self.last_print < self.every:
            return
        self.last_print = now
        line = self._line(steps, now)
        self.sums, self.count = {}, 0
        if self.terminal:
            padding = " " * max(0, self.width - len(line))
            self.width = len(line)
            self.stream.write("\r" + line + padding + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _line(self, steps, now):
        started, first_steps = self.first
        speed = (now - started) / (steps - first_steps) if steps > first_steps else None
        width = len(f"{self.total:,}")
        parts = [f"{steps:>{width},}/{self.total:,}"]
        if self.terminal:
            filled = int(20 * steps / self.total)
            parts[0] += " [" + "=" * filled + "." * (20 - filled) + "]"
        if speed is not None:
            left = speed * (self.total - steps)
            parts.append(f"{speed * 1e3:.0f} ms/step" if speed < 1 else f"{speed:.1f} s/step")
            if steps < self.total:
                parts.append(f"{int(left // 3600)}:{int(left % 3600 // 60):02d}:"
                             f"{int(left % 60):02d} left")
        parts += [f"{name} {total / self.count:.4f}" for name, total in self.sums.items()]
        return " - ".join(parts)


def fit(gan, epochs, batch_size=32, sample_interval=50, quiet=False, resume=False,
        overwrite=False, tensorboard=False, evaluate=None, eval_interval=None,
        jit_compile=None):
    """Train `gan` until `epochs` steps are done (one "epoch" is one batch, as in Keras-GAN).

    Every `sample_interval` steps and at the end it writes a sample grid to
    `<out>/images/`, the generator to `<out>/saved_model/` (the discriminator
    too at the end), a checkpoint to `<out>/checkpoints/`, `<out>/history.csv`
    and the loss plot `<out>/losses.png` (see `Snapshots`); the run ends with
    `<out>/samples.gif`. Models built under a tf.distribute strategy's scope
    train on all its replicas (common/backends/tensorflow_distribute.py).

    An --out folder holds one run, trained by one process at a time
    (common/run_lock.py): starting a new run where one is refuses (UserError)
    unless `resume` or `overwrite` (see `claim_out_dir`). The object that
    trained that run needs neither: `fit` called again on it (a notebook:
    train, look at the grids, train more) continues the run, as Keras' `fit`
    called again does, and `epochs` then counts the steps to train *more*.
    With `resume` (another object or process, and the command line's
    --resume) `epochs` is the total.

    Args:
        quiet: no progress line (what is resumed, warnings, errors and where
            the outputs go are still printed).
        resume: continue from `<out>/checkpoints/latest.npz` (same weights,
            optimizer states, random state and step count as when it was
            saved); `epochs` is the total, so a run already there stops at once.
        overwrite: remove the run in `<out>` and start over.
        tensorboard: also write TensorBoard events to `<out>/logs/`.
        evaluate: optional function `gan -> dict of metrics`, recorded in the
            history every `eval_interval` steps and at the end.
        jit_compile: XLA for the step; None chooses (see `compiled_step`).

    Ctrl-C stops after the current step with a checkpoint saved, then raises
    KeyboardInterrupt. A loss that is not finite stops the run (UserError)
    without overwriting the last good checkpoint. Returns the last step's logs;
    `gan.fit_timing` holds, for benchmarks/, the seconds of each step, of each
    save (`Snapshots`), of each evaluation and of everything else around the
    steps (history, progress; not the GIF, written once at the end).
    """
    if epochs < 1 or batch_size < 1 or sample_interval < 1:
        raise UserError("epochs, batch_size and sample_interval must be positive integers.")
    with backends.current().strategy_scope(gan):  # several devices (common/backends/tensorflow_distribute.py)
        chief = backends.current().is_chief(gan)
        check_apart(data_folder(getattr(gan, "dataset", None)), gan.out_dir)
        # One run per folder at a time (common/run_lock.py), from before anything
        # in it is read or removed until the run ends.
        with RunLock(gan.out_dir) if chief else contextlib.nullcontext():
            return _fit(gan, epochs, batch_size, sample_interval, quiet, resume, overwrite,
                        tensorboard, evaluate, eval_interval, jit_compile)


def _fit(gan, epochs, batch_size, sample_interval, quiet, resume, overwrite, tensorboard,
         evaluate, eval_interval, jit_compile):
    chief = backends.current().is_chief(gan)
    say = print if chief else (lambda *args, **kwargs: None)
    # The object that trained the run in out_dir goes on with it, as Keras'
    # fit() called again does (and Keras-GAN's loop did): `epochs` more steps.
    done = 0 if resume or overwrite else _reached(gan)
    vars(gan).pop("_run_reached", None)  # set again once this call leaves a checkpoint
    continuing = done > 0
    epochs += done
    if resume:  # a run goes on in the precision it was trained in (common/precision.py)
        resume_precision(gan, ((checkpoints.read_meta(gan.out_dir) or {}).get("config") or {})
                         .get("precision"), say)
    gan._run_config = checkpoints.run_config(gan, batch_size=batch_size,
                                             sample_interval=sample_interval,
                                             precision=getattr(gan, "precision", "float32"))
    if chief and continuing:
        prepare_out_dir(gan.out_dir)
    elif chief:
        claim_out_dir(gan.out_dir, resume, overwrite)
    if continuing:
        say(f"Continuing the run in {gan.out_dir} from step {done:,}.")
    if resume:
        warnings = []
        meta = checkpoints.load_checkpoint(gan, gan._run_config, warn=warnings.append)
        done = meta["step"]
        if (jit_compile is None and backends.name() == "tensorflow"
                and meta.get("backend", "tensorflow") == "tensorflow"):
            # The resumed run compiles its step as before: with XLA or not, as
            # chosen for this machine. (On JAX and PyTorch False is only ever a
            # call's own request to run eagerly, and earlier versions wrote it
            # for every PyTorch run.)
            jit_compile = meta.get("jit_compile")
        say(f"Resuming from step {done:,} ({checkpoints.checkpoint_path(gan.out_dir)}).")
        if done >= epochs:
            say(f"The run in {gan.out_dir} is already at step {done:,} (--epochs {epochs:,} "
                f"is the total): nothing to train; ask for more --epochs to go on.")
            gan._run_reached = (os.path.realpath(gan.out_dir), done)
            return {}
        for line in warnings:  # flags that differ from the checkpoint's
            say(line, file=sys.stderr)
        if chief:
            drop_grids_after(gan.out_dir, done)
    say(f"Outputs go to {gan.out_dir} (images/, saved_model/, checkpoints/, history.csv).")

    out_dir, history = gan.out_dir, None
    started, start_step = time.perf_counter(), done
    logs, snapshots = {}, None
    step_seconds, eval_seconds, other_seconds = [], [], 0.0
    # Ctrl-C from here on stops after a whole step with every file a run
    # leaves written (the GIF included), never between two of them.
    with _StopRequest() as stop:
        try:
            if not chief:  # the other workers write what the chief writes, into a folder thrown away
                gan.out_dir, quiet = tempfile.mkdtemp(prefix="keras-gan-worker-"), True
                prepare_out_dir(gan.out_dir)
            history = History(gan.out_dir, resume_step=done if resume or continuing else None,
                              tensorboard=tensorboard)
            snapshots = Snapshots(gan, history, saved_step=done or None)
            step_fn = compiled_step(gan, jit_compile, batch_size, epochs - done,
                                    verbose=not quiet)
            progress = None if quiet else Progress(epochs)
            for step in range(done, epochs):
                tick = time.perf_counter()
                logs = _to_floats(step_fn(*gan.draw_batch(gan.rng, batch_size)))
                tock = time.perf_counter()
                step_seconds.append(tock - tick)
                if not all(np.isfinite(v) for v in logs.values()):
                    raise UserError(
                        f"Training diverged at step {step}: a loss is not finite ({logs}); the last "
                        f"good checkpoint is kept in {os.path.dirname(checkpoints.checkpoint_path(gan.out_dir))}.")
                history.record(step, logs)
                last = step == epochs - 1
                if evaluate is not None and eval_interval and (step % eval_interval == 0 or last):
                    started_eval = time.perf_counter()
                    history.record(step, evaluate(gan))
                    eval_seconds.append(time.perf_counter() - started_eval)
                final_saved = False
                if step % sample_interval == 0 or last or stop.requested:
                    final_saved = last or stop.requested
                    snapshots.save(step, final=final_saved)
                if stop.requested and not final_saved:  # Ctrl-C came during that save
                    snapshots.save(step, final=True, sample=False)
                if progress is not None:
                    progress.update(step + 1, logs, final=last or stop.requested)
                other_seconds += time.perf_counter() - tock
                if stop.requested:
                    gan._run_reached = (os.path.realpath(out_dir), step + 1)
                    _finish(gan, history, snapshots, chief)
                    print(f"\nStopped after step {step + 1:,} of {epochs:,}: checkpoint saved to "
                          f"{snapshots.checkpoint}. Continue with --resume (and the same --out).",
                          file=sys.stderr)
                    raise KeyboardInterrupt
            _finish(gan, history, snapshots, chief)
            gan._run_reached = (os.path.realpath(out_dir), epochs)
        except BaseException:
            if history is not None:  # keep what it can; the error that stopped the run is the one to tell
                with contextlib.suppress(Exception):
                    history.close()
            raise
        finally:
            if not chief:
                shutil.rmtree(gan.out_dir, ignore_errors=True)
                gan.out_dir = out_dir
            close = getattr(getattr(gan, "dataset", None), "close", None)
            if callable(close):  # its thread pool; it starts again if the data set is used again
                close()
    gan.fit_timing = {"step_seconds": step_seconds, "save_seconds": snapshots.seconds,
                      "eval_seconds": eval_seconds,
                      "other_seconds": other_seconds - sum(snapshots.seconds) - sum(eval_seconds)}
    elapsed = time.perf_counter() - started
    steps_run = epochs - start_step
    say(f"Trained {steps_run:,} steps in {elapsed:.0f} s ({steps_run / elapsed:.1f} steps/s). "
        f"Samples in {os.path.join(gan.out_dir, 'images')}, models in "
        f"{os.path.join(gan.out_dir, 'saved_model')}.")
    skipped = getattr(getattr(gan, "dataset", None), "skipped", 0)
    if skipped:
        say(f"Skipped {skipped} unreadable image file(s).")
    return logs


def _reached(gan):
    """The step this very object trained the run in its out_dir to, when that
    run's checkpoint is still the one it wrote (no other process has replaced
    it since); else 0."""
    reached = getattr(gan, "_run_reached", None)
    if not reached or reached[0] != os.path.realpath(gan.out_dir):
        return 0
    meta = checkpoints.read_meta(gan.out_dir)
    return reached[1] if meta is not None and meta.get("step") == reached[1] else 0


def _finish(gan, history, snapshots, chief):
    """The end of a run, finished or stopped: history closed, and the GIF of
    the sample grids written."""
    _writing(history.close, gan.out_dir)
    if snapshots.last_sample and chief:
        gif = os.path.join(gan.out_dir, "samples.gif")
        _writing(lambda: write_gif(sample_frames(snapshots.last_sample), gif), gan.out_dir)


def _writing(write, out_dir):
    """Run `write()`; an OSError (a full disk) becomes one sentence naming the folder."""
    try:
        return write()
    except OSError as error:
        folder = os.path.dirname(error.filename) if error.filename else out_dir
        raise UserError(f"Could not write to {folder} ({error.strerror or error}): free some "
                        "space or choose another --out; the checkpoint is kept.") from None
