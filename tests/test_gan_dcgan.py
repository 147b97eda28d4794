"""The class API promises of GAN and DCGAN: the real networks map noise to images,
D learns in its own step, the combined step trains G alone, subclasses train,
train() leaves a grid and a loadable generator. The mechanics run on tiny
subclasses (tests/tiny.py); tests/test_recipes.py holds the compiled step
against Keras-GAN's loop."""
import os

import keras
import numpy as np
import pytest

from conftest import REPO, assert_frozen_d_contract, changed, snapshot
from common.data import ArrayImages, sine_paintings
from dcgan.dcgan import DCGAN
from gan.gan import GAN
from tiny import TinyDCGAN, TinyGAN, stateful_layer_kinds

TINY = {GAN: TinyGAN, DCGAN: TinyDCGAN}


@pytest.fixture(params=list(TINY.values()), ids=lambda cls: cls.__name__)
def model(request, tmp_path, mnist):
    return request.param(dataset=ArrayImages(mnist[0][:256]), out_dir=str(tmp_path), seed=0)


@pytest.mark.parametrize("cls", list(TINY), ids=lambda cls: cls.__name__)
def test_real_networks_map_noise_to_images_and_write_into_the_model_folder(cls, tmp_path,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)  # outputs go to the model's folder whatever the working directory
    gan = cls(seed=0)
    assert gan.out_dir == os.path.join(REPO, cls.__name__.lower())
    noise = np.random.default_rng(0).normal(size=(4, gan.latent_dim)).astype("float32")
    images = gan.generator.predict(noise, verbose=0)
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert gan.discriminator.predict(images, verbose=0).shape == (4, 1)
    assert gan.combined.predict(noise, verbose=0).shape == (4, 1)
    generator_ids = {id(v) for v in gan.generator.trainable_weights}
    assert {id(v) for v in gan.combined.trainable_weights} == generator_ids
    # The tiny version the other tests train holds the same BatchNorm and Dropout layers.
    tiny = TINY[cls](out_dir=str(tmp_path), seed=0)
    for real, small in [(gan.generator, tiny.generator), (gan.discriminator, tiny.discriminator)]:
        assert stateful_layer_kinds(real) == stateful_layer_kinds(small), real.name


def test_d_learns_in_its_own_step_and_the_combined_step_trains_g_alone(model, mnist_batch):
    images, _ = mnist_batch
    noise = np.random.default_rng(1).normal(size=(16, model.latent_dim)).astype("float32")
    # After a D step, D has moving statistics of its own to protect.
    d_before = assert_frozen_d_contract(model, (images, np.ones((len(images), 1))),
                                        (noise, np.ones((16, 1))))
    # and D still learns afterwards: freezing it for G did not freeze it for good
    model.discriminator.train_on_batch(images, np.zeros((len(images), 1)))
    assert changed(d_before, model.discriminator.trainable_weights)


def test_dcgan_discriminator_batchnorm_statistics_move_only_in_d_steps(tmp_path, mnist):
    gan = TinyDCGAN(dataset=ArrayImages(mnist[0][:256]), out_dir=str(tmp_path), seed=0)
    stats = [v for v in gan.discriminator.weights if "moving" in v.path]
    assert stats, "DCGAN's discriminator has BatchNorm layers"
    before = snapshot(stats)
    gan.train(epochs=2, batch_size=8, sample_interval=100, quiet=True)
    # train() runs D's steps and G's fused in one graph: D's own steps moved them...
    assert len(changed(before, stats)) == len(stats)
    # ...and G's step, through the frozen D that graph traced, leaves them alone.
    before = snapshot(stats)
    gan.combined.train_on_batch(gan.sample_noise[:8], np.ones((8, 1)))
    assert changed(before, stats) == []


def test_train_writes_grid_and_loadable_generator_and_trains_both_networks(model, tmp_path):
    g_before = snapshot(model.generator.trainable_weights)
    d_before = snapshot(model.discriminator.trainable_weights)
    logs = model.train(epochs=3, batch_size=8, sample_interval=2, quiet=True)
    assert set(logs) == {"d_loss", "d_acc", "g_loss"}
    # A subclass with its own networks trains them with the inherited train().
    assert len(changed(g_before, model.generator.trainable_weights)) == len(g_before)
    assert len(changed(d_before, model.discriminator.trainable_weights)) == len(d_before)
    images = sorted(os.listdir(tmp_path / "images"))
    assert images == ["mnist_0.png", "mnist_2.png"]
    import imageio.v3 as iio
    grid = iio.imread(tmp_path / "images" / "mnist_2.png")
    assert grid.ndim == 2 and grid.shape[0] > 100
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    noise = np.random.default_rng(2).normal(size=(3, model.latent_dim)).astype("float32")
    out = generator.predict(noise, verbose=0)
    assert out.shape == (3, 28, 28, 1) and np.all(np.abs(out) <= 1.0)
    np.testing.assert_allclose(out, model.generator.predict(noise, verbose=0), atol=1e-6)
    keras.models.load_model(tmp_path / "saved_model" / "discriminator.keras")


def test_gan_on_sine_paintings_draws_curves(tmp_path):
    gan = TinyGAN(img_shape=(15,), dataset=ArrayImages(sine_paintings(200, verbose=False)),
                  out_dir=str(tmp_path), seed=0)
    gan.train(epochs=2, batch_size=16, sample_interval=1, quiet=True)
    assert sorted(os.listdir(tmp_path / "images")) == ["sine_0.png", "sine_1.png"]
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    assert generator.predict(np.zeros((2, 100), "float32"), verbose=0).shape == (2, 15)


def test_save_imgs_is_sample_images(tmp_path):
    gan = TinyGAN(out_dir=str(tmp_path), seed=0)
    path = gan.save_imgs(7)
    assert path == str(tmp_path / "images" / "mnist_7.png") and os.path.exists(path)
