"""The compiled training step, the part of the contract between a model and
`common/` that runs inside it.

A model writes its `train_step(*batch)` with `train_on_batch` and `generate`
below, as Keras-GAN's loop calls `model.train_on_batch` and
`generator.predict`; `compiled_step` compiles that whole step once into one
function on the Keras backend in use (common/backends/: a `tf.function` on
TensorFlow, a `jax.jit` on JAX, a recorded graph of PyTorch operations on
PyTorch), and compiles it again when what it captured has changed.
"""
import keras

from common import backends
from common.run_state import run_state

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




def match_xla(gan, jit_compile=None):
    """Compile D's and the combined model's own `train_on_batch` as the fused
    step is compiled (on TensorFlow: the same XLA choice); returns the choice."""
    return backends.current().match_xla(gan, jit_compile)


def compiled_step(gan, jit_compile=None, batch_size=None, steps=0, verbose=False):
    """`gan.train_step` compiled once into one function, by the Keras backend's
    module in common/backends/ (kept in `run_state(gan)`): a `tf.function` (with
    XLA where it is faster here) on TensorFlow, a `jax.jit` of the stateless
    step on JAX, the step recorded once with torch.fx and replayed on PyTorch.
    `jit_compile` (None chooses; False: no XLA on TensorFlow, eager on JAX and
    PyTorch) is kept in `gan.jit_compile` (and in checkpoints, for --resume);
    the compiled step in `run_state(gan)` (common/model.py).

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
    state = run_state(gan)
    if state.compiled_for not in (None, compiled_for):
        state.compiled_step = None
    state.compiled_for = compiled_for
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
