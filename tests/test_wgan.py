"""WGAN's promises: Keras-GAN's critic (BatchNorm and Dropout included), the
critic frozen in the combined step, n_critic critic updates per generator
step inside the one compiled step, each followed by the clip of every critic
weight but BatchNorm's scale to [-c, c], the paper's Algorithm 1 over several steps against a loop
typed out here, Python settings (clip value, n_critic) that take effect
between train() calls, and checkpoints that resume a run exactly.

The mechanics run on a small subclass (a few filters; BatchNorm in G and in
the critic, as the real networks), at batch 8 and few steps: the whole file
is meant to take seconds."""
import os

import keras
import numpy as np
import pytest
from keras import layers, ops

from common import checkpoints
from common.data import ArrayImages
from common.frozen import frozen
from common.training import compiled_step
from conftest import REPO, assert_frozen_d_contract, run_script
from tiny import TinyWGAN
from wgan.wgan import WGAN


@pytest.fixture
def digits(mnist):
    return ArrayImages(mnist[0][:128])


def step_counts(gan):
    return (int(ops.convert_to_numpy(gan.critic.optimizer.iterations)),
            int(ops.convert_to_numpy(gan.combined.optimizer.iterations)))


def batchnorm_scales(critic):
    """BatchNorm's gamma, found by layer rather than by the name the recipe reads."""
    def walk(model):
        for layer in model.layers:
            yield layer
            yield from walk(layer) if hasattr(layer, "layers") else ()
    return [layer.gamma for layer in walk(critic) if isinstance(layer, layers.BatchNormalization)]


def largest_critic_weight(gan, scales=False):
    """The largest |w| of the clipped weights, or of BatchNorm's scales."""
    gammas = {id(w) for w in batchnorm_scales(gan.critic)}
    chosen = [w for w in gan.critic.trainable_weights if (id(w) in gammas) == scales]
    return max(float(np.abs(w.numpy()).max()) for w in chosen)


def test_real_critic_is_keras_gans_with_batchnorm_and_dropout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gan = WGAN(seed=0)
    assert gan.out_dir == os.path.join(REPO, "wgan")
    assert gan.discriminator is gan.critic
    stack = gan.critic.get_layer("critic_stack").layers
    assert [type(layer).__name__ for layer in stack] == [
        "Conv2D", "LeakyReLU", "Dropout",
        "Conv2D", "ZeroPadding2D", "BatchNormalization", "LeakyReLU", "Dropout",
        "Conv2D", "BatchNormalization", "LeakyReLU", "Dropout",
        "Conv2D", "BatchNormalization", "LeakyReLU", "Dropout", "Flatten", "Dense"]
    assert [c.filters for c in stack if isinstance(c, layers.Conv2D)] == [16, 32, 64, 128]
    assert {b.momentum for b in stack if isinstance(b, layers.BatchNormalization)} == {0.8}
    assert stack[-1].activation is keras.activations.linear  # a score, not a probability
    assert gan.generator.output.shape[1:] == (28, 28, 1)


def test_combined_step_leaves_critic_unchanged(tmp_path, mnist_batch):
    gan = TinyWGAN(out_dir=str(tmp_path), seed=0)
    images, _ = mnist_batch
    noise = np.random.default_rng(1).normal(size=(16, gan.latent_dim)).astype("float32")
    valid = -np.ones((16, 1))
    assert_frozen_d_contract(gan, (images, valid), (noise, valid))


# The recipe typed out with the paper's numbers (Arjovsky et al., 2017,
# Algorithm 1): alpha = 5e-5 (RMSProp), c = 0.01, n_critic = 5; the critic's
# loss mean(D(fake)) - mean(D(real)), G's -mean(D(G(z))).
class PaperCritic(keras.Model):
    """The critic trained on the paper's loss, x = [real, fake]."""

    def __init__(self, critic):
        super().__init__()
        self.critic = critic

    def call(self, inputs, training=None):
        # `training` in the signature: Keras' train step then calls the
        # model in training mode (BatchNorm on each batch's own statistics).
        real, fake = inputs
        return self.critic(real, training=training), self.critic(fake, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        d_real, d_fake = y_pred
        return ops.mean(d_fake) - ops.mean(d_real)


class PaperWGAN:
    """Algorithm 1, one generator iteration: five critic updates, each on a
    real batch and G's images of new noise and each followed by
    w <- clip(w, -0.01, 0.01) for every weight but BatchNorm's scale (this
    zoo's departure from the paper's code); then one G update minimising -mean(D(G(z)))
    through the frozen critic."""

    def __init__(self, generator, critic):
        self.generator, self.critic = generator, critic
        self.critic_trainer = PaperCritic(critic)
        self.critic_trainer.compile(optimizer=keras.optimizers.RMSprop(5e-5))
        z = keras.Input((generator.inputs[0].shape[1],))
        self.g_trainer = keras.Model(z, frozen(critic)(generator(z)))
        self.g_trainer.compile(loss=lambda _, score: -ops.mean(score),
                               optimizer=keras.optimizers.RMSprop(5e-5))
        for model in (self.critic_trainer, self.g_trainer):
            model.run_eagerly = True

    def train_step(self, imgs, noise, g_noise):
        losses = []
        for i in range(5):
            fake = ops.convert_to_numpy(self.generator(noise[:, i], training=False))
            losses.append(self.critic_trainer.train_on_batch([imgs[:, i], fake]))
            gammas = {id(w) for w in batchnorm_scales(self.critic)}
            for w in self.critic.trainable_weights:
                if id(w) not in gammas:
                    w.assign(np.clip(w.numpy(), -0.01, 0.01))
        g_loss = self.g_trainer.train_on_batch(g_noise, np.zeros((len(g_noise), 1)))
        return np.mean(losses), g_loss


def test_compiled_steps_equal_the_papers_algorithm_typed_out(tmp_path, digits):
    gan = TinyWGAN(dataset=digits, out_dir=str(tmp_path), seed=1)
    generator = keras.models.clone_model(gan.generator)
    critic = keras.models.clone_model(gan.critic)
    generator.set_weights(gan.generator.get_weights())
    critic.set_weights(gan.critic.get_weights())
    reference = PaperWGAN(generator, critic)
    initial = {id(net): [w.numpy().copy() for w in net.weights] for net in (generator, critic)}
    step = compiled_step(gan, jit_compile=False if keras.backend.backend() == "tensorflow"
                         else None)
    rng = np.random.default_rng(0)
    for i in range(2):
        imgs, noise, g_noise = gan.draw_batch(rng, 8)
        ours = step(imgs, noise, g_noise)
        d_loss, g_loss = reference.train_step(imgs, noise, g_noise)
        np.testing.assert_allclose(float(ours["d_loss"]), d_loss, rtol=2e-4, atol=1e-6)
        np.testing.assert_allclose(float(ours["g_loss"]), g_loss, rtol=2e-4, atol=1e-6)
    # What training changed, per network: float noise moves a few values, a
    # changed recipe number (c, the learning rate, n_critic, a label) the whole of it.
    for ours, theirs in [(gan.generator, generator), (gan.critic, critic)]:
        ours_moved = np.concatenate([(w.numpy() - w0).ravel()
                                     for w, w0 in zip(ours.weights, initial[id(theirs)])])
        theirs_moved = np.concatenate([(w.numpy() - w0).ravel()
                                       for w, w0 in zip(theirs.weights, initial[id(theirs)])])
        difference = np.linalg.norm(ours_moved - theirs_moved) / np.linalg.norm(theirs_moved)
        assert difference < 1e-3, f"{ours.name}'s training {difference:.2g} apart"


def test_train_makes_n_critic_clipped_critic_updates_per_step_and_new_settings_take_effect(
        tmp_path, digits, capsys):
    gan = TinyWGAN(dataset=digits, out_dir=str(tmp_path), seed=0)
    assert largest_critic_weight(gan) > 0.1  # Glorot's initial kernels: the clip has work to do
    logs = gan.train(epochs=1, batch_size=8, sample_interval=1, quiet=True)
    assert step_counts(gan) == (5, 1)  # n_critic critic updates, one G update: one compiled step
    assert logs["wasserstein"] == pytest.approx(-logs["d_loss"])
    assert largest_critic_weight(gan) == pytest.approx(0.01)  # every weight in [-c, c], some at c
    # BatchNorm's scale is left free: it starts at 1 and RMSprop moves it by ~5e-5 a step.
    assert largest_critic_weight(gan, scales=True) > 0.9
    # Python numbers the compiled step read: changed, the step is compiled again.
    gan.clip_value, gan.n_critic = 0.005, 2
    gan.train(epochs=1, batch_size=8, sample_interval=1, quiet=True)
    assert step_counts(gan) == (7, 2)
    assert largest_critic_weight(gan) == pytest.approx(0.005)
    assert largest_critic_weight(gan, scales=True) > 0.9
    assert sorted(os.listdir(tmp_path / "images")) == ["mnist_0.png", "mnist_1.png"]
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == \
        "step,d_loss,wasserstein,g_loss"
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    assert generator.predict(np.zeros((1, 100)), verbose=0).shape == (1, 28, 28, 1)
    assert os.path.isfile(tmp_path / "saved_model" / "discriminator.keras")
    assert "could not be recorded" not in capsys.readouterr().err  # PyTorch: one graph


def test_resume_equals_straight_run(tmp_path, digits):
    # n_critic 1: resuming does not depend on it, and the step traces faster.
    straight = TinyWGAN(dataset=digits, out_dir=str(tmp_path / "straight"), n_critic=1, seed=5)
    straight.train(epochs=2, batch_size=8, sample_interval=1, quiet=True)
    first = TinyWGAN(dataset=digits, out_dir=str(tmp_path / "resumed"), n_critic=1, seed=5)
    first.train(epochs=1, batch_size=8, sample_interval=1, quiet=True)
    second = TinyWGAN(dataset=digits, out_dir=str(tmp_path / "resumed"), n_critic=1, seed=99)
    second.train(epochs=2, batch_size=8, sample_interval=1, quiet=True, resume=True)
    assert step_counts(second) == (2, 2)  # both optimizers' states came back
    for a, b in zip(checkpoints._state_variables(straight), checkpoints._state_variables(second)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_script_help_from_another_folder_and_a_bad_clip_value(tmp_path):
    help_text = run_script("wgan/wgan.py", "--help", cwd=tmp_path, timeout=60).stdout
    assert "--n-critic" in help_text and "--clip-value" in help_text
    result = run_script("wgan/wgan.py", "--clip-value", "-0.01", cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "--clip-value" in result.stderr
