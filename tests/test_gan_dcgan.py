"""The class API promises of GAN and DCGAN: D learns in its own step, the combined
step trains G alone, subclasses train, train() leaves a grid and a loadable generator."""
import os

import keras
import numpy as np
import pytest
from keras import layers

from conftest import REPO, changed, snapshot
from common.data import ArrayImages, sine_paintings
from dcgan.dcgan import DCGAN
from gan.gan import GAN

MODELS = [GAN, DCGAN]


@pytest.fixture(params=MODELS, ids=lambda cls: cls.__name__)
def model(request, tmp_path):
    return request.param(out_dir=str(tmp_path), seed=0)


def test_generator_maps_noise_to_images_in_unit_range(model):
    noise = np.random.default_rng(0).normal(size=(4, model.latent_dim)).astype("float32")
    images = model.generator.predict(noise, verbose=0)
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert model.discriminator.predict(images, verbose=0).shape == (4, 1)
    assert model.combined.predict(noise, verbose=0).shape == (4, 1)


def test_discriminator_step_changes_discriminator_weights(model, mnist_batch):
    images, _ = mnist_batch
    before = snapshot(model.discriminator.trainable_weights)
    model.discriminator.train_on_batch(images, np.ones((len(images), 1)))
    assert len(changed(before, model.discriminator.trainable_weights)) == len(before)


def test_combined_step_trains_generator_and_leaves_discriminator_unchanged(model, mnist_batch):
    images, _ = mnist_batch
    # A D step first, so D has moving statistics of its own to protect.
    model.discriminator.train_on_batch(images, np.ones((len(images), 1)))
    d_before = snapshot(model.discriminator.weights)  # kernels, BatchNorm moving stats
    g_before = snapshot(model.generator.trainable_weights)
    noise = np.random.default_rng(1).normal(size=(16, model.latent_dim)).astype("float32")
    for _ in range(2):
        model.combined.train_on_batch(noise, np.ones((16, 1)))
    assert changed(d_before, model.discriminator.weights) == []
    assert len(changed(g_before, model.generator.trainable_weights)) == len(g_before)
    # and D still learns afterwards: freezing it for G did not freeze it for good
    model.discriminator.train_on_batch(images, np.zeros((len(images), 1)))
    assert changed(d_before, model.discriminator.trainable_weights)


def test_combined_model_trains_only_generator_weights(model):
    generator_ids = {id(v) for v in model.generator.trainable_weights}
    assert {id(v) for v in model.combined.trainable_weights} == generator_ids


def test_dcgan_discriminator_batchnorm_statistics_survive_training(tmp_path):
    gan = DCGAN(out_dir=str(tmp_path), seed=0)
    stats = [v for v in gan.discriminator.weights if "moving" in v.path]
    assert stats, "DCGAN's discriminator has BatchNorm layers"
    gan.train(epochs=3, batch_size=8, sample_interval=100, quiet=True)
    # train() runs the same steps fused; D's moving statistics move only in D's own step
    assert changed(snapshot(stats), stats) == []  # nothing happens after train returns
    before = snapshot(stats)
    gan.combined.train_on_batch(gan.sample_noise[:8], np.ones((8, 1)))
    assert changed(before, stats) == []


def test_train_writes_grid_and_loadable_generator(model, tmp_path):
    model.train(epochs=3, batch_size=8, sample_interval=2, quiet=True)
    images = sorted(os.listdir(tmp_path / "images"))
    assert images == ["mnist_0.png", "mnist_2.png"]
    import imageio.v3 as iio
    grid = iio.imread(tmp_path / "images" / "mnist_2.png")
    assert grid.ndim == 2 and grid.shape[0] > 100
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    out = generator.predict(np.zeros((3, model.latent_dim), "float32"), verbose=0)
    assert out.shape == (3, 28, 28, 1) and np.all(np.abs(out) <= 1.0)
    keras.models.load_model(tmp_path / "saved_model" / "discriminator.keras")


def test_fused_train_step_equals_explicit_train_on_batch_calls(tmp_path):
    for cls in MODELS:
        fused = cls(out_dir=str(tmp_path), seed=3)
        explicit = cls(out_dir=str(tmp_path), seed=3)
        rng = np.random.default_rng(0)
        fused.dataset = explicit.dataset = ArrayImages(
            rng.uniform(-1, 1, (64, 28, 28, 1)).astype("float32"))
        batch = fused.draw_batch(rng, 16)
        # GAN draws fresh noise for G's step (Keras-GAN's gan.py); DCGAN reuses D's.
        imgs, noise, g_noise = batch if len(batch) == 3 else (*batch, batch[1])
        from common.training import compiled_step, match_xla
        compiled_step(fused)(*batch)
        match_xla(explicit)  # the explicit calls compiled as train() compiles its step
        # Keras-GAN's loop, call by call
        gen_imgs = explicit.generator.predict(noise, verbose=0)
        explicit.discriminator.train_on_batch(imgs, np.ones((16, 1)))
        explicit.discriminator.train_on_batch(gen_imgs, np.zeros((16, 1)))
        explicit.combined.train_on_batch(g_noise, np.ones((16, 1)))
        for a, b in zip(fused.generator.weights + fused.discriminator.weights,
                        explicit.generator.weights + explicit.discriminator.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=f"{cls.__name__}: {a.path}")


class SmallDCGAN(DCGAN):
    """A user's variant: other networks, the inherited recipe."""

    def build_generator(self):
        return keras.Sequential([
            keras.Input((self.latent_dim,)),
            layers.Dense(7 * 7 * 8, activation="relu"),
            layers.Reshape((7, 7, 8)),
            layers.Conv2DTranspose(8, 4, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(self.channels, 4, strides=2, padding="same", activation="tanh"),
        ])

    def build_discriminator(self):
        return keras.Sequential([
            keras.Input(self.img_shape),
            layers.Conv2D(8, 3, strides=2),
            layers.BatchNormalization(),
            layers.LeakyReLU(0.2),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ])


class WideGAN(GAN):
    def build_discriminator(self):
        return keras.Sequential([keras.Input(self.img_shape), layers.Flatten(),
                                 layers.Dense(64, activation="relu"),
                                 layers.Dense(1, activation="sigmoid")])


@pytest.mark.parametrize("cls", [SmallDCGAN, WideGAN], ids=lambda c: c.__name__)
def test_subclass_with_its_own_networks_trains_with_inherited_train(cls, tmp_path):
    gan = cls(out_dir=str(tmp_path), seed=0)
    g_before = snapshot(gan.generator.trainable_weights)
    d_before = snapshot(gan.discriminator.trainable_weights)
    logs = gan.train(epochs=3, batch_size=8, sample_interval=10, quiet=True)
    assert set(logs) == {"d_loss", "d_acc", "g_loss"}
    assert len(changed(g_before, gan.generator.trainable_weights)) == len(g_before)
    assert len(changed(d_before, gan.discriminator.trainable_weights)) == len(d_before)
    assert os.path.exists(tmp_path / "saved_model" / "generator.keras")


def test_gan_on_sine_paintings_draws_curves(tmp_path):
    gan = GAN(img_shape=(15,), dataset=ArrayImages(sine_paintings(200, verbose=False)),
              out_dir=str(tmp_path), seed=0)
    gan.train(epochs=2, batch_size=16, sample_interval=1, quiet=True)
    assert sorted(os.listdir(tmp_path / "images")) == ["sine_0.png", "sine_1.png"]
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    assert generator.predict(np.zeros((2, 100), "float32"), verbose=0).shape == (2, 15)


def test_default_output_folder_is_the_model_folder_whatever_the_working_directory(tmp_path,
                                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert DCGAN().out_dir == os.path.join(REPO, "dcgan")
    assert GAN().out_dir == os.path.join(REPO, "gan")


def test_save_imgs_is_sample_images(tmp_path):
    gan = GAN(out_dir=str(tmp_path), seed=0)
    path = gan.save_imgs(7)
    assert path == str(tmp_path / "images" / "mnist_7.png") and os.path.exists(path)
