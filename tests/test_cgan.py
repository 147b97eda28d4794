"""CGAN's promises: both networks take the label, D learns in its own step, the
combined step trains G alone, subclasses train, train() leaves a labelled grid
and a generator that maps [noise, labels] to images; the script as a user runs it."""
import os

import keras
import numpy as np
import pytest

from cgan.cgan import CGAN, ConditionalDCGAN
from cgan.cgan import main as cgan_main
from conftest import REPO, assert_frozen_d_contract, call_main, changed, snapshot
from tiny import TinyCGAN, TinyConditionalDCGAN, stateful_layer_kinds

TINY = {CGAN: TinyCGAN, ConditionalDCGAN: TinyConditionalDCGAN}


def tiny_mnist(n=64, seed=0):
    """Random images and labels in the shapes and ranges of MNIST (fast, offline)."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (n, 28, 28, 1)).astype("float32"),
            rng.integers(0, 10, n).astype("int64"))


@pytest.fixture(params=list(TINY.values()), ids=lambda cls: cls.__name__)
def model(request, tmp_path):
    return request.param(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)


def noise_and_labels(n, latent_dim, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, latent_dim)).astype("float32"),
            (np.arange(n) % 10).reshape(-1, 1).astype("int32"))


@pytest.mark.parametrize("cls", list(TINY), ids=lambda cls: cls.__name__)
def test_real_networks_draw_the_digit_asked_for_and_write_into_the_model_folder(
        cls, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outputs go to the model's folder whatever the working directory
    gan = cls(dataset=tiny_mnist(), seed=0)
    assert gan.out_dir == os.path.join(REPO, "cgan")
    noise, labels = noise_and_labels(4, gan.latent_dim)
    images = gan.generator.predict([noise, labels], verbose=0)
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert gan.discriminator.predict([images, labels], verbose=0).shape == (4, 1)
    assert gan.combined.predict([noise, labels], verbose=0).shape == (4, 1)
    generator_ids = {id(v) for v in gan.generator.trainable_weights}
    assert {id(v) for v in gan.combined.trainable_weights} == generator_ids
    # The label changes what both networks compute.
    same_noise = np.repeat(noise[:1], 2, axis=0)
    two_digits = np.array([[3], [7]], "int32")
    images = gan.generator.predict([same_noise, two_digits], verbose=0)
    assert not np.allclose(images[0], images[1])
    same_image = np.repeat(images[:1], 2, axis=0)
    validity = gan.discriminator.predict([same_image, two_digits], verbose=0)
    assert validity[0, 0] != validity[1, 0]
    # The tiny version the other tests train holds the same BatchNorm and Dropout layers.
    tiny = TINY[cls](dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)
    for real, small in [(gan.generator, tiny.generator), (gan.discriminator, tiny.discriminator)]:
        assert stateful_layer_kinds(real) == stateful_layer_kinds(small), real.name


def test_d_learns_in_its_own_step_and_the_combined_step_trains_g_alone(model):
    images, labels = tiny_mnist(16)
    noise, sampled = noise_and_labels(16, model.latent_dim)
    d_before = assert_frozen_d_contract(model, ([images, labels.reshape(-1, 1)], np.ones((16, 1))),
                                        ([noise, sampled], np.ones((16, 1))))
    # and D still learns afterwards: freezing it for G did not freeze it for good
    model.discriminator.train_on_batch([images, labels.reshape(-1, 1)], np.zeros((16, 1)))
    assert changed(d_before, model.discriminator.trainable_weights)


def test_train_writes_labelled_grid_and_loadable_conditional_generator(tmp_path):
    # The MLP recipe here; the conditional DCGAN trains in the script test below.
    gan = TinyCGAN(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)
    g_before = snapshot(gan.generator.trainable_weights)
    d_before = snapshot(gan.discriminator.trainable_weights)
    logs = gan.train(epochs=3, batch_size=8, sample_interval=2, quiet=True)
    assert set(logs) == {"d_loss", "d_acc", "g_loss"}
    # A subclass with its own networks trains them with the inherited train().
    assert len(changed(g_before, gan.generator.trainable_weights)) == len(g_before)
    assert len(changed(d_before, gan.discriminator.trainable_weights)) == len(d_before)
    assert sorted(os.listdir(tmp_path / "images")) == ["mnist_0.png", "mnist_2.png"]
    import imageio.v3 as iio
    grid = iio.imread(tmp_path / "images" / "mnist_2.png")
    assert grid.shape[0] > 250 and grid.shape[1] > 250  # 10 x 10 digits and the labels
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    noise, labels = noise_and_labels(10, gan.latent_dim)
    out = generator.predict([noise, labels], verbose=0)
    assert out.shape == (10, 28, 28, 1) and np.all(np.abs(out) <= 1.0)
    np.testing.assert_allclose(out, gan.generator.predict([noise, labels], verbose=0),
                               atol=1e-6)


def test_sample_grid_asks_for_one_digit_per_column_with_one_noise_per_row(tmp_path):
    gan = TinyCGAN(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)
    labels = gan.sample_labels.reshape(10, 10)
    assert (labels == np.arange(10)).all()  # every row: 0, 1, ..., 9
    noise = gan.sample_noise.reshape(10, 10, gan.latent_dim)
    assert (noise == noise[:, :1]).all()  # one noise vector per row
    assert not np.allclose(noise[0, 0], noise[1, 0])
    assert gan.save_imgs(5) == str(tmp_path / "images" / "mnist_5.png")


def test_resume_continues_with_the_same_sample_inputs(tmp_path):
    first = TinyCGAN(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)
    # (no XLA: its compilation would cost seconds and prove nothing here)
    first.train(epochs=1, batch_size=8, sample_interval=10, quiet=True, jit_compile=False)
    second = TinyCGAN(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=1)
    assert not np.array_equal(second.sample_noise, first.sample_noise)  # another seed...
    second.train(epochs=2, batch_size=8, sample_interval=10, quiet=True, resume=True,
                 jit_compile=False)
    np.testing.assert_array_equal(second.sample_noise, first.sample_noise)  # ...until resumed
    np.testing.assert_array_equal(second.sample_labels, first.sample_labels)


def test_script_from_another_directory_trains_the_conditional_dcgan(tmp_path, mnist_npz):
    work, out = tmp_path / "elsewhere", tmp_path / "run"
    work.mkdir()
    result = call_main(cgan_main, "--arch", "conv", "--epochs", "2", "--sample-interval",
                        "1", "--batch-size", "8", "--out", str(out), "--seed", "1", "--quiet",
                        "--data", mnist_npz, cwd=work)
    assert result.returncode == 0, result.stderr
    assert "MNIST:" in result.stdout
    assert sorted(os.listdir(out / "images")) == ["mnist_0.png", "mnist_1.png"]
    generator = keras.models.load_model(out / "saved_model" / "generator.keras")
    assert generator.predict([np.zeros((2, 100)), np.array([[1], [2]])],
                             verbose=0).shape == (2, 28, 28, 1)
    assert os.listdir(work) == []  # nothing written where the user stood


def test_help_lists_the_architectures_and_explains_epochs(tmp_path):
    result = call_main(cgan_main, "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--arch {conv,mlp}" in text and '"epoch" is one batch' in text


@pytest.mark.parametrize("args, message", [
    (["--arch", "resnet"], "invalid choice"),
    (["--epochs", "0"], "positive integer"),
    (["--data", "/no/such/mnist.npz"], "/no/such/mnist.npz does not exist"),
])
def test_bad_flags_end_with_one_clear_message(args, message, tmp_path):
    result = call_main(cgan_main, *args, "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
