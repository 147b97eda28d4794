"""Checkpoints: everything a run needs to continue exactly where it stopped.

One checkpoint is one file, `<out>/checkpoints/latest.npz`, holding every
variable of the generator, the discriminator and the combined model (weights,
BatchNorm moving statistics, dropout seed states), both optimizers' states,
the arrays the model samples with (the fixed sample noise), the step count
and the numpy random state. It is written to a temporary file and renamed
over the old one, so a run killed at any moment, even mid-save, leaves the
previous checkpoint or the new one, never a broken file.
"""
import contextlib
import json
import os

import numpy as np

from common.errors import UserError

CHECKPOINT_NAME = "latest.npz"
_FIXED_ARRAYS = ("sample_noise", "sample_labels")


def checkpoint_path(out_dir):
    return os.path.join(out_dir, "checkpoints", CHECKPOINT_NAME)


def _optimizers(gan):
    return [model.optimizer for model in (gan.discriminator, gan.combined)]


def _state_variables(gan):
    """The variables that make up a run's state, in a fixed order."""
    for optimizer, model in zip(_optimizers(gan), (gan.discriminator, gan.combined)):
        if not optimizer.built:  # optimizers build lazily at their first step
            strategy = getattr(model, "_distribute_strategy", None)  # see common/distribute.py
            with strategy.scope() if strategy else contextlib.nullcontext():
                optimizer.build(model.trainable_variables)
    # Metrics restart at every step (as train_on_batch resets them): not state.
    seen = {id(v) for model in (gan.discriminator, gan.combined) for metric in model.metrics
            for v in metric.variables}
    variables = []
    for source in (gan.generator, gan.discriminator, gan.combined, *_optimizers(gan)):
        for variable in source.variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def save_checkpoint(gan, step, extra=None, durable=True):
    """Atomically write the state after `step` completed steps; returns the path.

    A temporary file is renamed over the old checkpoint, so a killed process
    leaves the old file or the new one. `durable` also waits until the file
    is on the disk (fsync: tens of milliseconds), which only a power cut or an
    OS crash could otherwise undo; `fit` asks for it at the end of a run."""
    path = checkpoint_path(gan.out_dir)
    arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(_state_variables(gan))}
    for name in _FIXED_ARRAYS:
        if getattr(gan, name, None) is not None:
            arrays[name] = np.asarray(getattr(gan, name))
    meta = {"step": int(step), "rng": gan.rng.bit_generator.state,
            "model": type(gan).__name__, "variables": len(arrays), **(extra or {})}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        raise UserError(f"Checkpoint {path} could not be written ({error.strerror}).") from None
    return path


def load_checkpoint(gan):
    """Restore `gan` from `<out>/checkpoints/latest.npz`; returns its metadata dict
    (with "step", the number of steps already done)."""
    path = checkpoint_path(gan.out_dir)
    if not os.path.isfile(path):
        raise UserError(f"No checkpoint to resume from at {path}: start without --resume, "
                        "or point --out at the folder of the run to continue.")
    try:
        with np.load(path) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except Exception as error:  # zip, json or numpy errors all mean an unusable file
        raise UserError(f"Checkpoint {path} could not be read ({error}).") from None
    variables = _state_variables(gan)
    stored = sorted((k for k in arrays if k.startswith("v")), key=lambda k: int(k[1:]))
    if len(stored) != len(variables) or any(
            arrays[k].shape != tuple(v.shape) for k, v in zip(stored, variables)):
        raise UserError(f"Checkpoint {path} was written by a different model or configuration "
                        f"({meta.get('model')}): resume with the same model and flags, "
                        "or choose a new --out.")
    for key, variable in zip(stored, variables):
        variable.assign(arrays[key])
    for name in _FIXED_ARRAYS:
        if name in arrays:
            setattr(gan, name, arrays[name])
    gan.rng.bit_generator.state = meta["rng"]
    return meta
