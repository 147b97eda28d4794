"""LSGAN's promises: GAN's generator with a linear-output D, D frozen in the
combined step, a compiled step that is Keras-GAN's lsgan.py loop (least
squares for D and G, G on D's noise) over five steps, and the files a run
leaves, from its command line in another folder."""
import os

import keras
import numpy as np
import pytest
from keras.layers import BatchNormalization, Dense, Flatten, Input, LeakyReLU, Reshape
from keras.models import Model, Sequential
from keras.optimizers import Adam

from common.data import ArrayImages
from common.frozen import frozen
from common.training import compiled_step
from conftest import REPO, assert_frozen_d_contract, call_main, run_script
from lsgan.lsgan import LSGAN, main as lsgan_main
from test_recipes import LOGS_TOLERANCE, STATE_TOLERANCE, float64, in_float64  # noqa: F401
from test_recipes import relative_difference

STEPS = 5


class KerasGANLSGAN:
    """Keras-GAN's lsgan/lsgan.py typed out for Keras 3 with its own numbers:
    GAN's MLPs, D ending in Dense(1) without an activation, 'mse' for D and
    for the combined model, and G trained on the noise D's step used; but the
    paper's Pearson chi^2 targets (Mao et al., a = -1 for generated, b = 1 for
    real, c = 0 for G) where Keras-GAN has 0, 1 and 1, and the authors'
    Adam(0.001, 0.5) where Keras-GAN has Adam(0.0002, 0.5).
    (One Adam per model and D frozen through common.frozen: Keras 3's two
    differences, tests/keras_gan_reference.py.)"""

    def __init__(self, img_shape=(28, 28, 1), latent_dim=100):
        self.img_shape, self.latent_dim = img_shape, latent_dim
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss='mse', optimizer=Adam(0.001, 0.5))
        self.generator = self.build_generator()
        z = Input(shape=(self.latent_dim,))
        valid = frozen(self.discriminator)(self.generator(z))
        self.combined = Model(z, valid)
        self.combined.compile(loss='mse', optimizer=Adam(0.001, 0.5))
        for model in (self.generator, self.discriminator, self.combined):
            model.run_eagerly = True  # call by call, as Keras-GAN's loop

    def build_generator(self):
        model = Sequential([
            Input(shape=(self.latent_dim,)),
            Dense(256), LeakyReLU(negative_slope=0.2), BatchNormalization(momentum=0.8),
            Dense(512), LeakyReLU(negative_slope=0.2), BatchNormalization(momentum=0.8),
            Dense(1024), LeakyReLU(negative_slope=0.2), BatchNormalization(momentum=0.8),
            Dense(int(np.prod(self.img_shape)), activation='tanh'),
            Reshape(self.img_shape)])
        noise = Input(shape=(self.latent_dim,))
        return Model(noise, model(noise))

    def build_discriminator(self):
        model = Sequential([
            Input(shape=self.img_shape), Flatten(),
            Dense(512), LeakyReLU(negative_slope=0.2),
            Dense(256), LeakyReLU(negative_slope=0.2),
            Dense(1)])  # (!!!) No softmax
        img = Input(shape=self.img_shape)
        return Model(img, model(img))

    def train_step(self, imgs, noise):
        real, fake, target = 1.0, -1.0, 0.0  # b, a, c
        ones = np.ones((len(imgs), 1))
        gen_imgs = self.generator.predict(noise, verbose=0)
        d_loss_real = self.discriminator.train_on_batch(imgs, real * ones)
        d_loss_fake = self.discriminator.train_on_batch(gen_imgs, fake * ones)
        g_loss = self.combined.train_on_batch(noise, target * ones)
        return {"d_loss": 0.5 * (d_loss_real + d_loss_fake), "g_loss": g_loss}


@pytest.fixture
def digits(mnist):
    return ArrayImages(mnist[0][:256])


def test_real_networks_map_noise_to_images_and_d_scores_without_a_sigmoid(tmp_path,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    gan = LSGAN(seed=0)
    assert gan.out_dir == os.path.join(REPO, "lsgan")  # its own folder, whatever the cwd
    noise = np.random.default_rng(0).normal(size=(4, gan.latent_dim)).astype("float32")
    images = gan.generator.predict(noise, verbose=0)
    assert images.shape == (4, 28, 28, 1) and -1 <= images.min() <= images.max() <= 1
    last = gan.discriminator.layers[-1].layers[-1]
    assert isinstance(last, Dense) and last.activation is keras.activations.linear
    assert gan.discriminator.loss == "mse" and gan.combined.loss == "mse"


def test_combined_step_leaves_discriminator_unchanged(tmp_path, mnist_batch):
    gan = LSGAN(out_dir=str(tmp_path), seed=0)
    images, _ = mnist_batch
    noise = np.random.default_rng(1).normal(size=(16, gan.latent_dim)).astype("float32")
    assert_frozen_d_contract(gan, (images, np.ones((16, 1))), (noise, np.ones((16, 1))))


def test_compiled_step_equals_keras_gan_lsgan_loop_over_five_steps(tmp_path, digits, float64):
    gan = in_float64(LSGAN(dataset=digits, out_dir=str(tmp_path), seed=1))
    reference = KerasGANLSGAN()
    for ours, theirs in [(gan.generator, reference.generator),
                         (gan.discriminator, reference.discriminator)]:
        assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
        theirs.set_weights(ours.get_weights())
    step = compiled_step(gan, jit_compile=False if keras.backend.backend() == "tensorflow"
                         else None)
    rng = np.random.default_rng(0)
    for i in range(STEPS):
        batch = gan.draw_batch(rng, 8)
        assert len(batch) == 2  # G trains on D's noise, as Keras-GAN's LSGAN
        ours, theirs = step(*batch), reference.train_step(*batch)
        for log in theirs:
            assert relative_difference(ours[log], theirs[log]) < LOGS_TOLERANCE[i], \
                f"step {i}: {log} {float(ours[log])} (Keras-GAN: {float(theirs[log])})"
    for ours, theirs in [(gan.generator, reference.generator),
                         (gan.discriminator, reference.discriminator)]:
        for a, b in zip(ours.weights, theirs.weights):
            assert relative_difference(a.numpy(), b.numpy()) < STATE_TOLERANCE[-1], a.path


def test_train_writes_grids_models_history_and_checkpoint(tmp_path, digits):
    gan = LSGAN(dataset=digits, out_dir=str(tmp_path), seed=0)
    gan.train(epochs=3, batch_size=8, sample_interval=2, quiet=True)
    assert sorted(os.listdir(tmp_path / "images")) == ["mnist_0.png", "mnist_2.png"]
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == "step,d_loss,d_acc,g_loss"
    assert os.path.isfile(tmp_path / "checkpoints" / "latest.npz")
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    assert generator.predict(np.zeros((1, 100)), verbose=0).shape == (1, 28, 28, 1)
    keras.models.load_model(tmp_path / "saved_model" / "discriminator.keras")


def test_script_trains_on_sine_paintings(tmp_path):
    result = call_main(lsgan_main, "--dataset", "sine", "--epochs", "2", "--out",
                       str(tmp_path), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.exists(tmp_path / "images" / "sine_1.png")


def test_help_answers_from_another_folder(tmp_path):
    result = run_script("lsgan/lsgan.py", "--help", cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "least squares" in result.stdout and "--epochs" in result.stdout
