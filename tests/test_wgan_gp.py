"""WGAN-GP's promises: Keras-GAN's critic without BatchNorm or Dropout, the
critic frozen in the combined step, n_critic critic updates per generator
step inside the one compiled step, a finite gradient penalty, the paper's
recipe over several steps against a loop typed out here, any batch size, and
checkpoints that resume every optimizer state and the penalty's random draws.

The mechanics run on a small subclass (a few filters; BatchNorm in G, none
in the critic, as the real networks), built here; the real networks are
built once."""
import os

import keras
import numpy as np
import pytest
from keras import layers, ops

from common import checkpoints
from common.data import ArrayImages
from common.frozen import frozen
from common.gradients import gradient_norm
from common.training import compiled_step
from conftest import REPO, assert_frozen_d_contract, call_main, changed, run_script, snapshot
from tiny import TinyWGANGP
from wgan_gp.wgan_gp import WGANGP, main as wgan_gp_main


@pytest.fixture
def digits(mnist):
    return ArrayImages(mnist[0][:256])


def step_counts(gan):
    return (int(ops.convert_to_numpy(gan.critic.optimizer.iterations)),
            int(ops.convert_to_numpy(gan.combined.optimizer.iterations)))


def test_real_critic_is_keras_gans_without_batchnorm_or_dropout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gan = WGANGP(seed=0)
    assert gan.out_dir == os.path.join(REPO, "wgan_gp")
    assert gan.discriminator is gan.critic
    stack = gan.critic.get_layer("critic_stack").layers
    assert [type(layer).__name__ for layer in stack] == [
        "Conv2D", "LeakyReLU", "Conv2D", "ZeroPadding2D", "LeakyReLU", "Conv2D", "LeakyReLU",
        "Conv2D", "LeakyReLU", "Flatten", "Dense"]
    convolutions = [(c.filters, c.kernel_size, c.strides) for c in stack
                    if isinstance(c, layers.Conv2D)]
    assert convolutions == [(16, (3, 3), (2, 2)), (32, (3, 3), (2, 2)), (64, (3, 3), (2, 2)),
                            (128, (3, 3), (1, 1))]
    assert stack[-1].activation is keras.activations.linear  # a score, not a probability
    noise = np.random.default_rng(0).normal(size=(3, 100)).astype("float32")
    images = gan.generator.predict(noise, verbose=0)
    assert images.shape == (3, 28, 28, 1) and -1 <= images.min() <= images.max() <= 1
    assert gan.critic.predict(images, verbose=0).shape == (3, 1)


def test_combined_step_leaves_critic_unchanged_and_critic_step_leaves_g(tmp_path, mnist_batch):
    gan = TinyWGANGP(out_dir=str(tmp_path), seed=0)
    images, _ = mnist_batch
    noise = np.random.default_rng(1).normal(size=(16, gan.latent_dim)).astype("float32")
    valid = -np.ones((16, 1))
    assert_frozen_d_contract(gan, (images, valid), (noise, valid))
    # The penalised critic step trains every critic weight and none of G's;
    # all but the score's bias, whose gradient is mean(+1) + mean(-1) = 0
    # (a constant added to every score leaves the Wasserstein estimate as it is).
    fake = gan.generator.predict(noise, verbose=0)
    critic, g = snapshot(gan.critic.trainable_weights), snapshot(gan.generator.weights)
    gan.critic_model.train_on_batch([images, fake, 0.5 * (images + fake)],
                                    {"real": valid, "fake": -valid, "gradient_norm": -valid})
    output_bias = gan.critic.layers[-1].bias.path
    assert changed(critic, gan.critic.trainable_weights) == [
        v.path for v in gan.critic.trainable_weights if v.path != output_bias]
    assert changed(g, gan.generator.weights) == []


def test_each_compiled_step_makes_n_critic_critic_updates_and_one_g_update(tmp_path, digits,
                                                                          capsys):
    gan = TinyWGANGP(dataset=digits, out_dir=str(tmp_path), seed=0)
    step, rng = compiled_step(gan), np.random.default_rng(0)
    for i in (1, 2):
        logs = step(*gan.draw_batch(rng, 8))
        assert step_counts(gan) == (5 * i, i)
        assert np.isfinite(float(logs["gradient_penalty"])) and float(logs["gradient_penalty"]) > 0
        assert all(np.isfinite(float(value)) for value in logs.values())
    gan.n_critic = 2  # a Python setting: the step is compiled again with it
    compiled_step(gan)(*gan.draw_batch(rng, 8))
    assert step_counts(gan) == (12, 3)
    assert "could not be recorded" not in capsys.readouterr().err  # PyTorch: one graph


# The recipe typed out with the paper's numbers (Gulrajani et al., 2017,
# Algorithm 1): lambda = 10, n_critic = 5, Adam(1e-4, beta_1=0, beta_2=0.9),
# and Keras-GAN's RMSprop(5e-5) for the other choice.
PAPER_OPTIMIZERS = {"adam": lambda: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
                    "rmsprop": lambda: keras.optimizers.RMSprop(5e-5)}


class PaperCritic(keras.Model):
    """The critic trained on the paper's loss, x = [real, fake, x_hat]:
    mean(D(fake)) - mean(D(real)) + 10 * mean((||grad D(x_hat)|| - 1)^2)."""

    def __init__(self, critic):
        super().__init__()
        self.critic = critic

    def call(self, inputs):
        real, fake, _ = inputs
        return self.critic(real), self.critic(fake)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        d_real, d_fake = y_pred
        penalty = ops.mean(ops.square(gradient_norm(self.critic, x[2]) - 1.0))
        return ops.mean(d_fake) - ops.mean(d_real) + 10.0 * penalty


class PaperWGANGP:
    """Algorithm 1, one generator iteration: five critic steps, each on a
    real batch, G's images of new noise and their interpolates; then one G
    step minimising -mean(D(G(z))) through the frozen critic."""

    def __init__(self, generator, critic, optimizer):
        self.generator, self.critic = generator, critic
        self.critic_trainer = PaperCritic(critic)
        self.critic_trainer.compile(optimizer=PAPER_OPTIMIZERS[optimizer]())
        z = keras.Input((generator.inputs[0].shape[1],))
        self.g_trainer = keras.Model(z, frozen(critic)(generator(z)))
        self.g_trainer.compile(loss=lambda _, score: -ops.mean(score),
                               optimizer=PAPER_OPTIMIZERS[optimizer]())
        for model in (self.critic_trainer, self.g_trainer):
            model.run_eagerly = True

    def train_step(self, imgs, noise, g_noise, eps):
        losses = []
        for i in range(5):
            real = imgs[:, i]
            fake = ops.convert_to_numpy(self.generator(noise[:, i], training=False))
            x_hat = eps[i] * real + (1 - eps[i]) * fake
            losses.append(self.critic_trainer.train_on_batch([real, fake, x_hat]))
        g_loss = self.g_trainer.train_on_batch(g_noise, np.zeros((len(g_noise), 1)))
        return np.mean(losses), g_loss


def interpolation_weights(gan, batch_size, draws):
    """The interpolation weights the compiled step is about to draw, drawn
    alike: from a copy of the critic's seed generator (TensorFlow, JAX), or
    from torch's generator, whose state is put back afterwards (PyTorch)."""
    from common.gradients import interpolate
    ones = np.ones((batch_size, 1, 1, 1), "float32")
    if keras.backend.backend() == "torch":
        import torch
        state = torch.get_rng_state()
        eps = [ops.convert_to_numpy(interpolate(ones, 0 * ones)) for _ in range(draws)]
        torch.set_rng_state(state)
        return eps
    seed = keras.random.SeedGenerator(0)
    seed.state.assign(gan.critic.seed_generator.state.numpy())
    return [ops.convert_to_numpy(interpolate(ones, 0 * ones, seed=seed)) for _ in range(draws)]


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_compiled_steps_equal_the_papers_algorithm_typed_out(optimizer, tmp_path, digits):
    gan = TinyWGANGP(dataset=digits, out_dir=str(tmp_path), optimizer=optimizer, seed=1)
    generator = keras.models.clone_model(gan.generator)
    critic = keras.models.clone_model(gan.critic)
    generator.set_weights(gan.generator.get_weights())
    critic.set_weights(gan.critic.get_weights())
    reference = PaperWGANGP(generator, critic, optimizer)
    initial = {id(net): [w.numpy().copy() for w in net.weights] for net in (generator, critic)}
    step = compiled_step(gan, jit_compile=False if keras.backend.backend() == "tensorflow"
                         else None)
    rng = np.random.default_rng(0)
    for i in range(3):
        imgs, noise, g_noise = gan.draw_batch(rng, 6)
        eps = interpolation_weights(gan, 6, 5)
        ours = step(imgs, noise, g_noise)
        d_loss, g_loss = reference.train_step(imgs, noise, g_noise, eps)
        np.testing.assert_allclose(float(ours["d_loss"]), d_loss, rtol=2e-4, atol=1e-5)
        np.testing.assert_allclose(float(ours["g_loss"]), g_loss, rtol=2e-4, atol=1e-5)
    # What training changed, per network: float noise moves a few values, a
    # changed recipe number (lambda, a beta, a learning rate, n_critic) the whole of it.
    for ours, theirs in [(gan.generator, generator), (gan.critic, critic)]:
        ours_moved = np.concatenate([(w.numpy() - w0).ravel()
                                     for w, w0 in zip(ours.weights, initial[id(theirs)])])
        theirs_moved = np.concatenate([(w.numpy() - w0).ravel()
                                       for w, w0 in zip(theirs.weights, initial[id(theirs)])])
        difference = np.linalg.norm(ours_moved - theirs_moved) / np.linalg.norm(theirs_moved)
        assert difference < 1e-3, f"{ours.name}'s training {difference:.2g} apart"


def test_resume_equals_straight_run_with_optimizer_states_and_penalty_draws(tmp_path, digits):
    # n_critic 2: resuming does not depend on it, and the step traces faster.
    straight = TinyWGANGP(dataset=digits, out_dir=str(tmp_path / "straight"), n_critic=2, seed=5)
    straight.train(epochs=4, batch_size=7, sample_interval=2, quiet=True)  # any batch size
    first = TinyWGANGP(dataset=digits, out_dir=str(tmp_path / "resumed"), n_critic=2, seed=5)
    first.train(epochs=2, batch_size=7, sample_interval=2, quiet=True)
    second = TinyWGANGP(dataset=digits, out_dir=str(tmp_path / "resumed"), n_critic=2, seed=99)
    second.train(epochs=4, batch_size=7, sample_interval=2, quiet=True, resume=True)
    saved = [v.path for v in checkpoints._state_variables(second)]
    assert any("seed_generator" in path for path in saved)  # the penalty's draws
    assert step_counts(second) == (8, 4)  # both optimizers' states came back
    for a, b in zip(checkpoints._state_variables(straight), checkpoints._state_variables(second)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_train_writes_grids_models_and_history(tmp_path, digits):
    gan = TinyWGANGP(dataset=digits, out_dir=str(tmp_path), n_critic=2, seed=0)
    gan.train(epochs=2, batch_size=5, sample_interval=1, quiet=True)
    assert sorted(os.listdir(tmp_path / "images")) == ["mnist_0.png", "mnist_1.png"]
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == \
        "step,d_loss,gradient_penalty,wasserstein,g_loss"
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    assert generator.predict(np.zeros((1, 100)), verbose=0).shape == (1, 28, 28, 1)
    critic = keras.models.load_model(tmp_path / "saved_model" / "discriminator.keras")
    assert critic.predict(np.zeros((2, 28, 28, 1)), verbose=0).shape == (2, 1)


def test_script_runs_from_another_folder_and_refuses_a_bad_flag(tmp_path, mnist_npz):
    result = call_main(wgan_gp_main, "--epochs", "1", "--batch-size", "4", "--n-critic", "2",
                       "--out", str(tmp_path / "run"), "--data", mnist_npz, "--quiet",
                       "--precision", "float32", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.isfile(tmp_path / "run" / "saved_model" / "generator.keras")
    result = run_script("wgan_gp/wgan_gp.py", "--optimizer", "sgd", cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "--optimizer" in result.stderr
    help_text = run_script("wgan_gp/wgan_gp.py", "--help", cwd=tmp_path, timeout=60).stdout
    assert "--n-critic" in help_text and "--gradient-penalty-weight" in help_text
