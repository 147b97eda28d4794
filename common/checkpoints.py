"""Checkpoints: everything a run needs to continue exactly where it stopped.

One checkpoint is one file, `<out>/checkpoints/latest.npz`, holding every
variable of the networks the model declares (common/model.py: the generator,
the discriminator, the combined model and any other; weights, BatchNorm
moving statistics, dropout seed states), their optimizers' states, the
arrays the model samples with (`sample_arrays`: the fixed sample noise), the step count,
the numpy random state and, on PyTorch, torch's (its Dropout draws from it). It is written to a temporary file and renamed
over the old one, so a run killed at any moment, even mid-save, leaves the
previous checkpoint or the new one, never a broken file.

Its metadata also records each variable's path and the run's configuration
(`run_config`: latent size, image shape, batch size ...). `--resume` restores
the variables by path, and refuses to continue with a flag that would change
the networks or the losses (it names the flag and both values); a flag that
only steers the training (`MAY_CHANGE`) may change, with a warning.
"""
import contextlib
import json
import os
import re

import numpy as np

from common import private
from common.errors import UserError
from common.files import replaced_atomically

CHECKPOINT_NAME = "latest.npz"
_RANDOM_STATE = "random_state_"  # + a generator's name (common.backends.global_random_state)


def checkpoint_path(out_dir):
    return os.path.join(out_dir, "checkpoints", CHECKPOINT_NAME)


def _optimizers(gan):
    """{id: (optimizer, the first declared network it trains)}, in the order
    the model declares its networks (common/model.py); networks that share
    an optimizer (SRGAN's SRResNet and combined model) share its entry."""
    optimizers = {}
    for network in gan.networks().values():
        optimizer = getattr(network, "optimizer", None)
        if optimizer is not None and id(optimizer) not in optimizers:
            optimizers[id(optimizer)] = (optimizer, network)
    return list(optimizers.values())


def _state_variables(gan):
    """The variables that make up a run's state, in a fixed order: every
    variable of the networks the model declares, then their optimizers'."""
    optimizers = _optimizers(gan)
    for optimizer, model in optimizers:
        if not optimizer.built:  # optimizers build lazily at their first step
            strategy = private.distribute_strategy(model)  # see common/backends/tensorflow_distribute.py
            with strategy.scope() if strategy else contextlib.nullcontext():
                optimizer.build(model.trainable_variables)
    networks = list(gan.networks().values())
    # Metrics restart at every step (as train_on_batch resets them): not state.
    seen = {id(v) for model in networks for metric in model.metrics for v in metric.variables}
    variables = []
    for source in (*networks, *(optimizer for optimizer, _ in optimizers)):
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
    OS crash could otherwise undo; `fit` asks for it at the end of a run.
    `extra` goes into the metadata (`fit` stores the run's configuration,
    `run_config`, under "config")."""
    path = checkpoint_path(gan.out_dir)
    variables = _state_variables(gan)
    arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    for name in gan.sample_arrays:
        if getattr(gan, name, None) is not None:
            arrays[name] = np.asarray(getattr(gan, name))
    meta = {"step": int(step), "rng": gan.rng.bit_generator.state,
            "model": type(gan).__name__, "variables": len(arrays),
            "paths": [v.path for v in variables], **(extra or {})}
    from common import backends
    for name, state in backends.global_random_state().items():
        arrays[_RANDOM_STATE + name] = state
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    try:
        with replaced_atomically(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as error:
        raise UserError(f"Checkpoint {path} could not be written ({error.strerror}).") from None
    return path


def read_meta(out_dir):
    """The metadata of the checkpoint in `out_dir` (its "step" ...), or None
    when there is none or it cannot be read."""
    try:
        with np.load(checkpoint_path(out_dir)) as npz:
            return json.loads(npz["meta"].tobytes().decode())
    except Exception:  # missing, or not a checkpoint: there is no step to tell
        return None


def load_checkpoint(gan, config=None, warn=print):
    """Restore `gan` from `<out>/checkpoints/latest.npz`; returns its metadata dict
    (with "step", the number of steps already done).

    `config` (see `run_config`) is compared with the configuration the
    checkpoint stored: an entry that shapes the networks or the losses must be
    the same (UserError naming its flag and both values), one of `MAY_CHANGE`
    may differ (a warning through `warn`). Variables are matched by their
    path (`generator_stack/dense/kernel`) and shape; nothing is restored
    unless all of them match."""
    path = checkpoint_path(gan.out_dir)
    if not os.path.isfile(path):
        raise UserError(f"No checkpoint to resume from at {path}: start without --resume, "
                        "or point --out at the folder of the run to continue.")
    try:
        with np.load(path) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except Exception as error:  # zip, json or numpy errors all mean an unusable file
        reason = " ".join(str(error).split())[:120] or type(error).__name__
        raise UserError(f"--resume expects the checkpoint a run of {type(gan).__name__} wrote; "
                        f"{path} could not be read as one ({reason}): resume with the --out "
                        "of that run, or start without --resume.") from None
    if not isinstance(meta, dict):
        raise UserError(f"--resume expects the checkpoint a run of {type(gan).__name__} wrote; "
                        f"{path} holds no such record: resume with the --out of that run, or "
                        "start without --resume.")
    variables = _state_variables(gan)
    stored = sorted((k for k in arrays if k.startswith("v")), key=lambda k: int(k[1:]))
    same_model = meta.get("model") == type(gan).__name__
    if not same_model and not _shapes_match([arrays[k] for k in stored], variables):
        raise UserError(f"--resume expects a checkpoint of {type(gan).__name__}, the model "
                        f"running; {path} was written by a different model "
                        f"({meta.get('model')}, not {type(gan).__name__}): resume with the same "
                        "model and flags, or choose a new --out.")
    changes = _compare_configs(path, meta.get("config"), config)
    order = _match_variables(path, [arrays[k] for k in stored], meta.get("paths"), variables,
                             changes)
    if config is not None and meta.get("config") is None:
        warn(f"Note: checkpoint {path} does not record its run's flags (written by an older "
             "version): they cannot be checked, its variables are.")
    for name, (before, now) in changes.items():
        warn(f"Warning: {_flag(name)} was {_show(before)} in this run until now; "
             f"it goes on with {_show(now)}.")
    for variable, index in zip(variables, order):
        variable.assign(arrays[stored[index]])
    for name in gan.sample_arrays:
        if name in arrays:
            setattr(gan, name, arrays[name])
    gan.rng.bit_generator.state = meta["rng"]
    from common import backends
    backends.set_global_random_state({name[len(_RANDOM_STATE):]: array for name, array
                                      in arrays.items() if name.startswith(_RANDOM_STATE)})
    meta["changes"] = changes
    return meta


# ---------------------------------------------------------------------------
# The run's configuration, checked on --resume
# ---------------------------------------------------------------------------

# What a resumed run may change, with a warning: they steer the training, but
# the networks, their variables and the losses stay the same. Any other entry
# of a configuration (latent size, image shape, architecture, residual blocks,
# content loss ...) must match the checkpoint's.
MAY_CHANGE = ("batch_size", "sample_interval", "real_label", "pretrain_steps", "pretrain_lr",
              "rotate", "shuffle_colours", "precision")

# Entries whose command-line flag is not their name with dashes.
_FLAGS = {"img_shape": "the image shape (--data, --img-size)", "hr_shape": "--hr-size",
          "class_names": "the class folders",
          "num_classes": "the number of classes (--data, --dataset)"}


def run_config(gan, **training):
    """The configuration a checkpoint records: the model's `config()` (the
    arguments that build its networks and recipe) and `training` (batch size,
    sample interval), as JSON values."""
    config = dict(gan.config()) if hasattr(gan, "config") else {}
    config.update(training)
    return json.loads(json.dumps(config))  # tuples become lists, as read back


def _flag(name):
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def _show(value):
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)  # class names
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return str(value)


def _compare_configs(path, stored, current):
    """The entries of `current` that differ from the checkpoint's, as
    {name: (stored value, current value)}; a UserError for one that shapes the
    networks or the losses (not in `MAY_CHANGE`)."""
    if current is None or stored is None:
        return {}
    changes = {name: (stored[name], current[name]) for name in current
               if name in stored and stored[name] != current[name]}
    refused = [name for name in changes if name not in MAY_CHANGE]
    if refused:
        name = refused[0]
        raise UserError(
            f"The run in {os.path.dirname(os.path.dirname(path))} was trained with {_flag(name)} "
            f"{_show(changes[name][0])}, not {_show(changes[name][1])}: resume with "
            f"{_flag(name)} {_show(changes[name][0])}, or start a new run in another --out.")
    return changes


def _normalised(path):
    """A variable's path without Keras' automatic numbering (dense_3 -> dense,
    adam_1 -> adam), which depends on what else the process built before."""
    return re.sub(r"_\d+(?=[/_]|$)", "", path)


def _keys(paths):
    """Each path's normalised form and how many before it had the same one."""
    seen = {}
    keys = []
    for path in paths:
        name = _normalised(path)
        keys.append((name, seen.get(name, 0)))
        seen[name] = seen.get(name, 0) + 1
    return keys


def _shapes_match(arrays, variables):
    return len(arrays) == len(variables) and all(
        a.shape == tuple(v.shape) for a, v in zip(arrays, variables))


def _match_variables(path, arrays, stored_paths, variables, changes=None):
    """The index of each variable's array in the checkpoint, matched by path;
    a checkpoint without paths (older versions) by position. Raises a
    UserError naming the first variable that has no match of its shape (and
    the flags `changes` lists, which may be why)."""
    changed = "".join(f"; this run changes {_flag(name)} from {_show(a)} to {_show(b)}"
                      for name, (a, b) in (changes or {}).items())
    refuse = (f"Checkpoint {path} was written by a different model or configuration: "
              "{what}" + changed.replace("{", "{{").replace("}", "}}") +
              ". Resume with the same model and flags, or choose a new --out.")
    if stored_paths is None:
        if not _shapes_match(arrays, variables):
            raise UserError(refuse.format(what="its variables do not match this model's"))
        return list(range(len(variables)))
    paths = [v.path for v in variables]
    if sorted(paths) == sorted(stored_paths) and len(set(paths)) == len(paths):
        stored_keys, keys = stored_paths, paths  # the same names: a new process, same code
    else:  # built after other models in this process: dense_3 here may be dense there
        stored_keys, keys = _keys(stored_paths), _keys(paths)
    index = {key: i for i, key in enumerate(stored_keys)}
    order = []
    for variable, key in zip(variables, keys):
        if key not in index:
            raise UserError(refuse.format(what=f"it has no variable {variable.path}"))
        i = index.pop(key)
        if arrays[i].shape != tuple(variable.shape):
            raise UserError(refuse.format(
                what=f"its {variable.path} has shape {arrays[i].shape}, "
                     f"this model's {tuple(variable.shape)}"))
        order.append(i)
    if index:
        extra = stored_paths[min(index.values())]
        raise UserError(refuse.format(what=f"its variable {extra} has no place in this model"))
    return order
