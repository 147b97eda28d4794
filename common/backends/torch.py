"""The training step on PyTorch: Keras' own `train_step`, eagerly.

On PyTorch a Keras model's `train_step(data)` runs the forward pass, calls
`zero_grad()`, back-propagates the loss and applies the optimizer, as in
keras.io's "custom train step in PyTorch" guide; `train_on_batch` below is that
step after resetting the metrics. The frozen D inside the combined model is
called with D's own parameters, so the combined step leaves gradients on them;
D's next step clears them first (`zero_grad`), so they never reach D's update.

`compiled_step` runs the GAN's `train_step` as it is, eagerly, as Keras
itself runs PyTorch models by default (`jit_compile="auto"` is eager there).
`torch.compile` of the whole step does not run on Keras 3.15 / torch 2.13:
TorchDynamo fails in Keras' loss set-up before the first step, and after an
eager first step recompiles Keras' layer `_setattr_hook` until its limit
(README, "Choosing a backend").
"""
import contextlib

import keras
import numpy as np
import torch


def train_on_batch(model, x, y):
    """`model.train_on_batch(x, y)`: the model's own train step after
    resetting its metrics, as `train_on_batch` does. The batch is data, as
    the arrays given to `train_on_batch` are: images G generated in this step
    are detached from G's graph, or D's backward pass would run on into G and
    leave its gradients on G's weights (which the combined model's
    `zero_grad` does not reach) for G's own step to add to its own."""
    model.reset_metrics()
    return model.train_step((_data(x), _data(y)))


def generate(generator, inputs):
    """G's images for D's step, as `generator.predict_on_batch` makes them:
    inference mode, and no autograd graph recorded (D's step takes them as
    data; the hand-written PyTorch step writes `torch.no_grad()` here)."""
    with torch.no_grad():
        return generator(inputs, training=False)


def _data(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_data(v) for v in value)
    return value.detach() if isinstance(value, torch.Tensor) else value


def compiled_step(gan, jit_compile=None, **unused):
    """`gan.train_step`, run eagerly (see the module's docstring), on the
    batch's arrays as tensors: a model called on [generated images, labels]
    refuses a list that mixes tensors and numpy arrays. A flag (SRGAN's
    phase) stays a Python value."""
    gan.jit_compile = False

    def step(*batch):
        return gan.train_step(*[keras.ops.convert_to_tensor(a) if np.ndim(a) else a
                                for a in batch])
    return step


def match_xla(gan, jit_compile=None):
    return False


def model_strategy(gan):
    return None


def strategy_scope(gan):
    return contextlib.nullcontext()


def is_chief(gan):
    return True


class _OneDevice:
    def scope(self):
        return contextlib.nullcontext()


def make_strategy(name="default", cpu_devices=None):
    """One device: the zoo has no data-parallel training on PyTorch."""
    from common.errors import UserError
    if name != "default" or (cpu_devices or 1) > 1:
        raise UserError(f"--strategy {name} and --cpu-devices need the TensorFlow or JAX backend: "
                        "on PyTorch the zoo trains on one device (set KERAS_BACKEND=jax or "
                        "tensorflow for several).")
    return _OneDevice()
