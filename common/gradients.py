"""Gradients inside a training step, on every backend: WGAN-GP's gradient penalty.

WGAN-GP (Gulrajani et al., 2017, "Improved Training of Wasserstein GANs",
arXiv:1704.00028) adds to the critic's loss

    weight * mean((||grad_x D(x_hat)||_2 - 1)^2),   x_hat = eps * real + (1 - eps) * fake,

with eps ~ U[0, 1] drawn per sample. The penalty needs a gradient inside the
step, and its own gradient with respect to the critic's weights (a second
derivative), which Keras 3 has no backend-agnostic op for: `input_gradient`
asks the backend's module in common/backends/ (`tf.GradientTape`,
`jax.grad`, `torch.autograd.grad` with `create_graph=True`), and the rest is
`keras.ops`, usable in a model's step as if it were one of them.

Two bugs of keras.io's TensorFlow-only WGAN-GP example are not repeated here:
its norm, `sqrt(sum(g^2))`, has an infinite derivative at a zero gradient
(NaN weights after one step of a critic that is flat at x_hat), and it draws
eps from a normal distribution instead of a uniform one.
"""
import keras
from keras import ops

from common import backends

# Added under the square root of the norm: the derivative of sqrt(s) at s = 0
# is infinite, and the chain rule's 0 * inf is NaN. With it the norm's
# derivative at a zero gradient is finite (and zero), and the norm itself is
# off by at most 1e-6.
NORM_EPSILON = 1e-12


def input_gradient(fn, x):
    """The gradient of `sum(fn(x))` with respect to `x`: for a network whose
    samples do not interact (no BatchNormalization in training mode), each
    sample's gradient of its own output. Same shape and dtype as `x`, and
    differentiable with respect to the weights `fn` reads. `fn` must not
    update any state (a BatchNormalization's moving statistics, a Dropout's
    seed)."""
    return backends.current().input_gradient(fn, x)


# PyTorch has its own draw, so that a recorded step draws afresh at each
# replay (common/backends/torch.py); elsewhere Keras' draw is that already.
# Looked up once here, as common.training looks up train_on_batch: looked up
# at each call, TensorFlow's AutoGraph would trace into importlib and warn
# ("AutoGraph could not transform <function _gcd_import>") in every run.
_uniform = getattr(backends.current(), "uniform", keras.random.uniform)


def interpolate(real, fake, seed=None):
    """`eps * real + (1 - eps) * fake`, one eps per sample drawn uniformly from
    [0, 1], for `real` and `fake` of the same shape (batch, ...); `seed` is
    None, an int or a `keras.random.SeedGenerator` (a jitted JAX step needs
    one whose state a model of the step holds)."""
    real = ops.convert_to_tensor(real)
    fake = ops.cast(fake, real.dtype)
    shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
    eps = _uniform(shape, dtype=real.dtype, seed=seed)
    return eps * real + (1.0 - eps) * fake


def gradient_norm(fn, x):
    """Each sample's L2 norm of `input_gradient(fn, x)`: shape (batch,),
    float32, finite and with a finite derivative also where the gradient is
    zero (`NORM_EPSILON`)."""
    # float32 even under mixed precision: 1e-12 is zero in float16.
    gradient = ops.cast(input_gradient(fn, x), "float32")
    squares = ops.sum(ops.square(gradient), axis=tuple(range(1, len(gradient.shape))))
    return ops.sqrt(squares + NORM_EPSILON)


def gradient_penalty(critic, real, fake, weight=10.0, seed=None):
    """WGAN-GP's `weight * mean((||grad D(x_hat)|| - 1)^2)` at x_hat =
    `interpolate(real, fake, seed)`: a float32 scalar >= 0 to add to the
    critic's loss. `critic` maps a batch shaped like `real` to one score per
    sample (a Keras model, or a function of one argument); 10 is the paper's
    weight."""
    norms = gradient_norm(critic, interpolate(real, fake, seed))
    return weight * ops.mean(ops.square(norms - 1.0))
