"""The training loop shared by every model: `fit` runs a model's recipe step
after step, with samples, history, checkpoints and saved models at every
sample interval. Its parts live beside it: the compiled step
(common/step.py), the output folder (common/out_dir.py), saving
(common/saving.py), the progress line and Ctrl-C (common/progress.py).

A model class supplies the recipe, as `common.model.GANModel` states:
its networks, `train_step(*batch)` (one step of D and G updates, written
with `train_on_batch`, common/step.py), `draw_batch(rng, batch_size)` (the
arrays one step consumes), `sample_images(step)` and `config()`.
`fit` runs that recipe: it compiles `train_step` once into a single function
on the Keras backend in use (common/backends/: a `tf.function` on TensorFlow,
a `jax.jit` on JAX, a recorded graph of PyTorch operations on PyTorch), so a
step costs one call instead of the three
`train_on_batch` calls and the `predict` of Keras-GAN's loop. This module
itself speaks keras, keras.ops and numpy only.
"""
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time

from common import backends, checkpoints
from common.errors import UserError
from common.evaluation import save_class_names, save_codes
from common.history import History, sample_frames, write_gif
from common.out_dir import (RUN_OUTPUTS, check_apart, claim_out_dir, data_folder,
                            default_out_dir, drop_grids_after, earlier_run, prepare_out_dir)
from common.precision import resume_precision
from common.prefetch import prefetched_batches
from common.progress import Progress, _StopRequest
from common.run_lock import RunLock
from common.run_state import run_state, undeclared_trained_networks
from common.saving import save_model_atomically
from common.step import (binary_accuracy, compiled_step, generate, match_xla,
                         python_settings, set_random_seed, train_on_batch)

# What a model file uses of the plumbing, by the names it has always imported
# from here, with what this module itself defines.
__all__ = ["fit", "Snapshots", "Progress", "RUN_OUTPUTS", "binary_accuracy", "check_apart",
           "claim_out_dir", "compiled_step", "data_folder", "default_out_dir",
           "drop_grids_after", "earlier_run", "generate", "match_xla", "prepare_out_dir",
           "python_settings", "save_model_atomically", "set_random_seed", "train_on_batch"]


def _to_floats(logs):
    return {name: float(value) for name, value in logs.items()}


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
        for name, network in gan.saved_networks(final).items():
            save_model_atomically(network, os.path.join(folder, f"{name}.keras"))
        if getattr(gan, "class_names", None):  # read by common.generate --class
            save_class_names(gan.class_names, folder)
        if gan.codes():  # how G's input holds codes: read by common.generate and common.metrics
            save_codes(gan.codes(), folder)
        self.checkpoint = checkpoints.save_checkpoint(
            gan, step + 1, {"jit_compile": gan.jit_compile, "backend": backends.name(),
                            "config": run_state(gan).run_config},
            durable=final)



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
    `run_state(gan).timing` (common/run_state.py) holds, for benchmarks/, the
    seconds of each step, of each save (`Snapshots`), of each evaluation and
    of everything else around the steps (history, progress; not the GIF,
    written once at the end).
    """
    if epochs < 1 or batch_size < 1 or sample_interval < 1:
        raise UserError("epochs, batch_size and sample_interval must be positive integers.")
    undeclared = undeclared_trained_networks(gan)
    if undeclared:
        raise UserError(f"{type(gan).__name__} holds {', '.join(undeclared)}, compiled with an "
                        "optimizer but not among its networks(): it would train without being "
                        "checkpointed or resumed; add it to networks() (common/model.py).")
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
    state = run_state(gan)
    done = 0 if resume or overwrite else _reached(gan)
    state.reached = None  # set again once this call leaves a checkpoint
    continuing = done > 0
    epochs += done
    if resume:  # a run goes on in the precision it was trained in (common/precision.py)
        resume_precision(gan, ((checkpoints.read_meta(gan.out_dir) or {}).get("config") or {})
                         .get("precision"), say)
    state.run_config = checkpoints.run_config(gan, batch_size=batch_size,
                                              sample_interval=sample_interval,
                                              precision=gan.precision)
    if chief and continuing:
        prepare_out_dir(gan.out_dir)
    elif chief:
        claim_out_dir(gan.out_dir, resume, overwrite)
    if continuing:
        say(f"Continuing the run in {gan.out_dir} from step {done:,}.")
    if resume:
        warnings = []
        meta = checkpoints.load_checkpoint(gan, state.run_config, warn=warnings.append)
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
            state.reached = (os.path.realpath(gan.out_dir), done)
            if chief:
                _complete_finished_run(gan, say)
            return {}
        for line in warnings:  # flags that differ from the checkpoint's
            say(line, file=sys.stderr)
        if chief:
            drop_grids_after(gan.out_dir, done)
    say(f"Outputs go to {gan.out_dir} (images/, saved_model/, checkpoints/, history.csv).")

    out_dir, history = gan.out_dir, None
    started, start_step = time.perf_counter(), done
    logs, snapshots, batches = {}, None, None
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
            # The batch of the next step is drawn while this one runs (common/prefetch.py).
            batches = prefetched_batches(gan, batch_size, epochs - done)
            for step in range(done, epochs):
                tick = time.perf_counter()
                # Left on the device: read back when printed or written (common/history.py).
                logs = step_fn(*batches.next())
                tock = time.perf_counter()
                step_seconds.append(tock - tick)
                # A loss that is not finite stops the run (UserError naming the step) at
                # the next read-back: within READ_BACK_SECONDS, and before anything is saved.
                history.record(step, logs, read_back=step % sample_interval == 0
                               or step == epochs - 1 or stop.requested)
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
                    state.reached = (os.path.realpath(out_dir), step + 1)
                    _finish(gan, history, snapshots, chief)
                    print(f"\nStopped after step {step + 1:,} of {epochs:,}: checkpoint saved to "
                          f"{snapshots.checkpoint}. Continue with --resume (and the same --out).",
                          file=sys.stderr)
                    raise KeyboardInterrupt
            _finish(gan, history, snapshots, chief)
            state.reached = (os.path.realpath(out_dir), epochs)
        except BaseException:
            if history is not None:  # keep what it can; the error that stopped the run is the one to tell
                with contextlib.suppress(Exception):
                    history.close()
            raise
        finally:
            if not chief:
                shutil.rmtree(gan.out_dir, ignore_errors=True)
                gan.out_dir = out_dir
            if batches is not None:  # a batch being drawn ahead is waited for and dropped
                batches.close()
            close = getattr(getattr(gan, "dataset", None), "close", None)
            if callable(close):  # its thread pool; it starts again if the data set is used again
                close()
    state.timing = {"step_seconds": step_seconds, "save_seconds": snapshots.seconds,
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
    return _to_floats(logs)


def _reached(gan):
    """The step this very object trained the run in its out_dir to, when that
    run's checkpoint is still the one it wrote (no other process has replaced
    it since); else 0."""
    reached = run_state(gan).reached
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


def _complete_finished_run(gan, say):
    """A run resumed with nothing left to train may have died at its end
    (killed, the power gone) before it wrote its final files: the ones it
    lacks (the networks saved only at the end, the GIF) are written now, from
    the checkpoint just loaded."""
    folder = os.path.join(gan.out_dir, "saved_model")
    written = []
    for name, network in gan.saved_networks(True).items():
        path = os.path.join(folder, f"{name}.keras")
        if not os.path.exists(path):
            _writing(lambda: save_model_atomically(network, path), gan.out_dir)
            written.append(f"saved_model/{name}.keras")
    gif = os.path.join(gan.out_dir, "samples.gif")
    images = os.path.join(gan.out_dir, "images")
    grids = sorted((int(m.group(1)), name) for name in
                   (os.listdir(images) if os.path.isdir(images) else [])
                   if (m := re.search(r"_(\d+)\.png$", name)))
    if grids and not os.path.exists(gif):
        _writing(lambda: write_gif(sample_frames(os.path.join(images, grids[-1][1])), gif),
                 gan.out_dir)
        written.append("samples.gif")
    if written:
        say(f"Wrote what the run had not written at its end: {', '.join(written)}.")


def _writing(write, out_dir):
    """Run `write()`; an OSError (a full disk) becomes one sentence naming the folder."""
    try:
        return write()
    except OSError as error:
        folder = os.path.dirname(error.filename) if error.filename else out_dir
        raise UserError(f"Could not write to {folder} ({error.strerror or error}): free some "
                        "space or choose another --out; the checkpoint is kept.") from None
