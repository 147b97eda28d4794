"""The compiled training step, one small module per Keras backend.

`common.training` asks `current()` for the module of the backend Keras runs on
(`KERAS_BACKEND`, or `~/.keras/keras.json`): `tensorflow.py`, `jax.py` or
`torch.py`. Each holds the same few functions, shaped like keras.io's guides
"custom train step in TensorFlow / JAX / PyTorch":

    train_on_batch(model, x, y)   Keras' `model.train_on_batch`, traceable
    generate(generator, inputs)   G's images for D's step (no gradient recorded)
    compiled_step(gan, ...)       the GAN's whole `train_step` as one function
                                  (`build_lazy_state` first, below)
    match_xla(gan, jit_compile)   D's and combined's own `train_on_batch` alike
    model_strategy(gan), strategy_scope(gan), is_chief(gan)   several devices

Only the chosen module is imported: on JAX or PyTorch nothing imports
TensorFlow (TensorBoard's writer aside, when --tensorboard asks for it).
"""
import contextlib
import importlib
import sys

import keras
import numpy as np

from common import private
from common.run_state import all_networks


def name():
    """The Keras backend this process runs on: "tensorflow", "jax" or "torch"."""
    return keras.backend.backend()


def current():
    """This backend's module of common/backends/."""
    backend = name()
    if backend not in ("tensorflow", "jax", "torch"):
        from common.errors import UserError
        raise UserError(f"The zoo trains on the tensorflow, jax and torch backends of Keras, "
                        f"not {backend!r}: set KERAS_BACKEND to one of them.")
    return importlib.import_module(f"common.backends.{backend}")


def train_on_batch(model, x, y):
    """`model.train_on_batch(x, y)` as operations a compiled step can trace: the
    model's own train step (forward pass, loss, optimizer update, metrics)
    after resetting its metrics, as `train_on_batch` does. Returns the logs.
    (`common.training.train_on_batch` is the backend's function itself.)"""
    return current().train_on_batch(model, x, y)


def held_models(gan):
    """Every network a step of `gan` runs, as the model declares them
    (common/model.py): its networks (G, D, combined, SRGAN's srresnet ...)
    and its fixed ones (SRGAN's VGG19 content loss)."""
    return all_networks(gan)


def build_lazy_state(gan):
    """Create the variables Keras creates at a model's first `train_on_batch`
    (its compiled loss's and metrics', its optimizer's), as Keras' own `fit`
    does before it compiles its step: from the model's symbolic inputs, and
    its outputs as targets. A jitted function (JAX) or a recorded step
    (PyTorch) cannot create them, and a `tf.function` that does traces the
    whole step twice (seconds at start-up). Returns False where it cannot:
    where the targets differ from the outputs (a class head trained on labels;
    a ValueError, on PyTorch a RuntimeError of its symbolic shapes), the
    step creates them at its first call, which must then run eagerly. A
    model compiled with a metric named by a string ("accuracy") is not built
    here: Keras chooses that metric from the targets' shape (integer labels:
    sparse categorical accuracy), which the outputs would get wrong."""
    for model in held_models(gan):
        if getattr(model, "optimizer", None) is not None:
            outputs = model.outputs if len(model.outputs) > 1 else model.outputs[0]
            inputs = model.inputs if len(model.inputs) > 1 else model.inputs[0]
            if not _metrics_named_by_string(model):
                try:
                    private.symbolic_build(model, data_batch=(inputs, outputs))
                except (ValueError, RuntimeError):
                    return False
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
    return True


def variables_to_compile(gan, batch):
    """(every variable of the GAN, and None) once `build_lazy_state` built
    them; where it cannot, the step creates the rest at its first call, run
    eagerly on `batch` here: (every variable, that step's logs). For a
    compiled step that must not create variables (JAX's jit, PyTorch's
    recording)."""
    logs = None if build_lazy_state(gan) else gan.train_step(*batch)
    return gan_variables(gan), logs


def generate(generator, inputs):
    """G's images for D's step: inference mode (a traced or jitted step records
    no gradient for them, as D's step starts its own). TensorFlow's and JAX's
    `generate`; PyTorch's also turns autograd off."""
    return generator(inputs, training=False)


def gan_variables(gan):
    """Every variable a step of `gan` reads or writes: the networks' (and any
    other model the GAN holds, or its losses hold: SRGAN's VGG19), their
    optimizers' and metrics'.
    A compiled step (JAX, PyTorch) takes them all as its inputs, so none is
    compiled in as a constant (the stale-D hazard, tests/test_backends.py)."""
    seen, variables = set(), []
    for model in held_models(gan):
        owned = list(model.variables) + list(model.metrics_variables)
        if getattr(model, "optimizer", None) is not None and model.optimizer.built:
            owned += list(model.optimizer.variables)
        for variable in owned:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables


def global_random_state():
    """The states of random generators this backend's Keras draws from outside
    its SeedGenerator variables, {name: array}: PyTorch's (its Dropout's
    masks, common/backends/torch.py); none on TensorFlow and JAX."""
    own = getattr(current(), "global_random_state", None)
    return own() if own else {}


def set_global_random_state(states):
    """Put back the states `global_random_state` gave, where this backend has them."""
    own = getattr(current(), "set_global_random_state", None)
    if own:
        own(states)


def is_static(value):
    """A Python or numpy bool (SRGAN's pre-training flag) is part of a
    compiled step's key, not one of its traced inputs: one program per phase."""
    return isinstance(value, (bool, np.bool_))


def merge_static(static, arrays):
    """The batch in its order again: the static values, (position, value)
    pairs, among the traced arrays."""
    fixed, arrays = dict(static), list(arrays)
    rest = iter(arrays)
    return [fixed[i] if i in fixed else next(rest) for i in range(len(fixed) + len(arrays))]


def _metrics_named_by_string(model):
    config = private.compile_config(model)
    return any(isinstance(metric, str) for key in ("metrics", "weighted_metrics")
               for metric in keras.tree.flatten(config.get(key)))


@contextlib.contextmanager
def tensorflow_left_unloaded():
    """Within the block, Keras takes TensorFlow for not installed unless it is
    already loaded. Saving a model (`serialize_keras_object`) and
    `keras.utils.set_random_seed` ask whether TensorFlow is available, to
    handle TensorFlow's own objects and seed, and the question imports it:
    2-3 s on JAX or PyTorch, at a run's --seed or first saved model. A process that has
    not loaded TensorFlow holds none of its objects and draws none of its
    random numbers, so the answer changes nothing but the time. (Keras'
    lazy module of TensorFlow, common/private.py: where it is missing, nothing
    is done.)"""
    lazy_tensorflow = private.lazy_tensorflow()
    if ("tensorflow" in sys.modules or lazy_tensorflow is None
            or private.lazy_module_asked(lazy_tensorflow)):
        yield  # loaded, asked before, or another Keras: as Keras does it
        return
    private.set_lazy_module_available(lazy_tensorflow, False)
    try:
        yield
    finally:
        private.set_lazy_module_available(lazy_tensorflow, None)  # asked again next time
