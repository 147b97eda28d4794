"""common/gradients.py on this backend: input gradients and WGAN-GP's gradient
penalty against closed forms, differentiable with respect to the critic's
weights (through the critic's own train step), finite at a zero gradient,
with interpolation weights uniform in [0, 1], and inside the compiled step."""
import keras
import numpy as np
import pytest
from keras import ops

from common import backends
from common.gradients import gradient_norm, gradient_penalty, input_gradient, interpolate
from common.model import GANModel
from common.training import compiled_step


def linear_critic(kernel):
    """x (batch, n) -> x @ kernel (batch, 1), no bias and no activation."""
    kernel = np.asarray(kernel, "float32").reshape(-1, 1)
    initializer = keras.initializers.Constant(kernel)
    return keras.Sequential([keras.Input((kernel.shape[0],)),
                             keras.layers.Dense(1, use_bias=False, kernel_initializer=initializer)])


class RecordableSGD(keras.optimizers.SGD):
    """Keras' plain SGD (w -= learning_rate * gradient), for closed forms. Not
    its PyTorch version, which Keras picks for `SGD` itself and which reads the
    learning rate as a Python number (`alpha=-learning_rate`): no recording
    (`make_fx`) can hold that, and the compiled step would run eagerly."""


class PenalisedCritic(keras.Model):
    """A linear critic whose loss is its gradient penalty alone, trained on
    x = the real batch, y = the fake one, with one SGD step of `learning_rate`."""

    def __init__(self, kernel, weight=10.0, learning_rate=0.1):
        critic = linear_critic(kernel)
        super().__init__(critic.inputs[0], critic.outputs[0])
        self.weight = weight
        # Held by the model, so a compiled step carries its state (JAX's jit);
        # made without a seed, so PyTorch's recording draws afresh at each replay.
        self.seed_generator = keras.random.SeedGenerator()
        self.compile(optimizer=RecordableSGD(learning_rate))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return gradient_penalty(self, x, y, weight=self.weight, seed=self.seed_generator)


def kernel_after_sgd_step(kernel, weight, learning_rate):
    """The linear critic's kernel after one SGD step on its penalty, in closed
    form: d/dw weight * (||w|| - 1)^2 = weight * 2(||w|| - 1) w / ||w||."""
    norm = np.linalg.norm(kernel)
    return kernel - learning_rate * weight * 2 * (norm - 1) * kernel / norm


def numpy(value):
    """A tensor of this backend (or an array) as a numpy array."""
    return np.asarray(ops.convert_to_numpy(value))


def test_gradient_of_sum_of_squares_is_twice_the_input():
    x = np.random.default_rng(0).normal(size=(5, 3, 4)).astype("float32")
    gradient = input_gradient(lambda t: ops.sum(ops.square(t)), x)
    assert tuple(gradient.shape) == x.shape
    np.testing.assert_allclose(numpy(gradient), 2 * x, rtol=1e-6)


def test_gradient_of_a_function_that_ignores_its_input_is_zero():
    x = np.ones((3, 2), "float32")
    np.testing.assert_array_equal(numpy(input_gradient(lambda t: ops.ones((3,)), x)), 0 * x)


def test_gradient_of_a_dense_layer_is_its_kernels_row_sums_for_every_sample():
    dense = keras.layers.Dense(3, bias_initializer="ones")
    x = np.random.default_rng(1).normal(size=(7, 4)).astype("float32")
    dense.build((None, 4))
    gradient = numpy(input_gradient(dense, x))
    row_sums = numpy(dense.kernel).sum(axis=1)
    np.testing.assert_allclose(gradient, np.tile(row_sums, (7, 1)), rtol=1e-6)


def test_gradient_of_a_nonlinear_network_matches_finite_differences():
    network = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="tanh"),
                                keras.layers.Dense(1)])
    x = np.random.default_rng(2).normal(size=(2, 3)).astype("float64")
    gradient = numpy(input_gradient(network, x.astype("float32")))
    step = 1e-3
    for sample in range(2):
        for i in range(3):
            up, down = x.copy(), x.copy()
            up[sample, i] += step
            down[sample, i] -= step
            difference = (numpy(network(up.astype("float32"))).sum()
                          - numpy(network(down.astype("float32"))).sum()) / (2 * step)
            assert gradient[sample, i] == pytest.approx(difference, rel=1e-2, abs=1e-3)


def test_penalty_of_a_linear_critic_is_weight_times_squared_distance_of_its_norm_from_one():
    kernel = np.array([1.0, 2.0, 2.0])  # norm 3
    real, fake = np.random.default_rng(3).normal(size=(2, 6, 3)).astype("float32")
    penalty = gradient_penalty(linear_critic(kernel), real, fake, weight=10.0, seed=1)
    assert float(numpy(penalty)) == pytest.approx(10.0 * (3.0 - 1.0) ** 2, rel=1e-5)
    norms = numpy(gradient_norm(linear_critic(kernel), real))
    np.testing.assert_allclose(norms, np.full(6, 3.0), rtol=1e-6)


@pytest.mark.parametrize("batch", [1, 7])
def test_penalty_trains_the_critic_as_its_closed_form_derivative_says(batch):
    """The critic's own train step (Keras': a tape, jax.grad under jit, or
    loss.backward) differentiates the penalty with respect to the kernel,
    through the input gradient: a second derivative."""
    kernel = np.array([0.5, -1.5, 2.0, 1.0], "float32")
    critic = PenalisedCritic(kernel, weight=10.0, learning_rate=0.01)
    real, fake = np.random.default_rng(4).normal(size=(2, batch, 4)).astype("float32")
    critic.train_on_batch(real, fake)
    np.testing.assert_allclose(numpy(critic.trainable_weights[0])[:, 0],
                               kernel_after_sgd_step(kernel, 10.0, 0.01), rtol=1e-5)


def test_penalty_and_its_weight_gradient_are_finite_at_a_zero_input_gradient():
    """A critic flat at x_hat (a zero kernel): the norm is ~0, the penalty
    ~weight, and the weights' gradient finite (keras.io's example: NaN)."""
    real, fake = np.random.default_rng(5).normal(size=(2, 8, 4)).astype("float32")
    norms = numpy(gradient_norm(linear_critic(np.zeros(4)), real))
    assert np.all(np.isfinite(norms)) and np.all(norms < 1e-5)
    penalty = gradient_penalty(linear_critic(np.zeros(4)), real, fake)
    assert float(numpy(penalty)) == pytest.approx(10.0, rel=1e-5)
    critic = PenalisedCritic(np.zeros(4))
    logs = critic.train_on_batch(real, fake, return_dict=True)
    assert np.isfinite(logs["loss"])
    assert np.all(np.isfinite(numpy(critic.trainable_weights[0])))


@pytest.mark.parametrize("seeded", [True, False])  # (PyTorch draws unseeded ones itself)
def test_interpolation_weights_are_uniform_in_zero_one_and_one_per_sample(seeded):
    batch = 20000
    real = np.ones((batch, 2, 3), "float32")  # x_hat = eps * 1 + (1 - eps) * 0 = eps
    seed = keras.random.SeedGenerator(6) if seeded else None
    mixed = numpy(interpolate(real, np.zeros_like(real), seed=seed))
    assert np.all(mixed == mixed[:, :1, :1])  # one eps for all of a sample's values
    eps = mixed[:, 0, 0]
    assert eps.min() >= 0.0 and eps.max() <= 1.0
    assert eps.mean() == pytest.approx(0.5, abs=0.01)  # (std of the mean: 0.002)
    counts, _ = np.histogram(eps, bins=10, range=(0.0, 1.0))
    np.testing.assert_allclose(counts / batch, 0.1, atol=0.01)  # a normal's would not be flat
    odd = numpy(interpolate(np.ones((7, 4), "float32"), np.zeros((7, 4), "float32")))
    assert odd.shape == (7, 4) and len(np.unique(odd[:, 0])) == 7


class PenaltyGAN(GANModel):
    """A stand-in GAN for `compiled_step`: its step trains a linear critic on
    the gradient penalty between real images and G's, and returns the penalty
    and an interpolation weight. (The combined model is there for TensorFlow's
    `match_xla`, which compiles it alike; this step does not train G.)"""

    def __init__(self, kernel, latent_dim=2):
        self.latent_dim = latent_dim
        self.generator = keras.Sequential([keras.Input((latent_dim,)), keras.layers.Dense(4)])
        self.discriminator = PenalisedCritic(kernel, weight=10.0, learning_rate=0.01)
        self.combined = keras.Sequential([self.generator, self.discriminator])

    def train_step(self, real, noise):
        fake = backends.generate(self.generator, noise)
        logs = backends.train_on_batch(self.discriminator, real, fake)
        ones = ops.ones_like(real)
        seed = self.discriminator.seed_generator
        eps = interpolate(ones, ops.zeros_like(real), seed=seed)[0, 0]
        return {"penalty": logs["loss"], "first_weight": eps}


def test_penalty_trains_the_critic_inside_the_compiled_step(capsys):
    kernel = np.array([2.0, 0.0, 1.0, -2.0], "float32")  # norm 3
    gan = PenaltyGAN(kernel)
    step, rng = compiled_step(gan), np.random.default_rng(7)
    weights = []
    for batch in (8, 8, 7, 8):  # the same shape again (a replay), and another
        real = rng.normal(size=(batch, 4)).astype("float32")
        noise = rng.normal(size=(batch, gan.latent_dim)).astype("float32")
        norm = np.linalg.norm(kernel)
        logs = step(real, noise)
        assert float(logs["penalty"]) == pytest.approx(10.0 * (norm - 1) ** 2, rel=1e-4)
        kernel = kernel_after_sgd_step(kernel, 10.0, 0.01)
        np.testing.assert_allclose(numpy(gan.discriminator.trainable_weights[0])[:, 0], kernel,
                                   rtol=1e-4)
        weights.append(float(logs["first_weight"]))
    assert all(0.0 <= w <= 1.0 for w in weights)
    assert len(set(weights)) == len(weights)  # drawn afresh at every step, not a constant
    assert "could not be recorded" not in capsys.readouterr().err  # PyTorch: recorded
