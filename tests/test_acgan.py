"""ACGAN's promises: G takes the label, D has a real/fake and a class head and
learns in its own step, the combined step trains G alone (D's BatchNorm
statistics included), op_acc is read by metric name, subclasses train, train()
leaves a labelled grid and a generator that maps [noise, labels] to images."""
import os

import keras
import numpy as np
import pytest
from keras import layers

from acgan.acgan import ACGAN
from common.training import binary_accuracy, compiled_step
from conftest import REPO, assert_frozen_d_contract, call_main, changed, snapshot
from acgan.acgan import main as acgan_main
from tiny import TinyACGAN, stateful_layer_kinds

LOG_NAMES = {"d_loss", "d_acc", "op_acc", "op_acc_real", "op_acc_fake", "g_loss"}


def tiny_mnist(n=64, seed=0):
    """Random images and labels in the shapes and ranges of MNIST (fast, offline)."""
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (n, 28, 28, 1)).astype("float32"),
            rng.integers(0, 10, n).astype("int64"))


@pytest.fixture
def model(tmp_path):
    return TinyACGAN(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)


def noise_and_labels(n, latent_dim, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, latent_dim)).astype("float32"),
            (np.arange(n) % 10).reshape(-1, 1).astype("int32"))


def test_real_networks_map_noise_and_labels_to_images_and_d_has_two_heads(tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)  # outputs go to the model's folder whatever the working directory
    gan = ACGAN(dataset=tiny_mnist(), seed=0)
    assert gan.out_dir == os.path.join(REPO, "acgan")
    noise, labels = noise_and_labels(4, gan.latent_dim)
    images = gan.generator.predict([noise, labels], verbose=0)
    assert images.shape == (4, 28, 28, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0
    validity, classes = gan.discriminator.predict(images, verbose=0)
    assert validity.shape == (4, 1) and classes.shape == (4, 10)
    np.testing.assert_allclose(classes.sum(axis=1), 1.0, rtol=1e-5)
    outputs = gan.combined.predict([noise, labels], verbose=0)
    assert [o.shape for o in outputs] == [(4, 1), (4, 10)]
    generator_ids = {id(v) for v in gan.generator.trainable_weights}
    assert {id(v) for v in gan.combined.trainable_weights} == generator_ids
    # The tiny version the other tests train holds the same BatchNorm and Dropout layers.
    tiny = TinyACGAN(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)
    for real, small in [(gan.generator, tiny.generator), (gan.discriminator, tiny.discriminator)]:
        assert stateful_layer_kinds(real) == stateful_layer_kinds(small), real.name


def test_d_learns_in_its_own_step_and_the_combined_step_trains_g_alone(model):
    images, labels = tiny_mnist(16)
    noise, sampled = noise_and_labels(16, model.latent_dim)
    # After a D step, D has moving statistics of its own to protect.
    assert any("moving" in v.path for v in model.discriminator.weights)
    d_before = assert_frozen_d_contract(
        model, (images, [np.ones((16, 1)), labels.reshape(-1, 1)]),
        ([noise, sampled], [np.ones((16, 1)), sampled]))
    model.discriminator.train_on_batch(images, [np.zeros((16, 1)), labels.reshape(-1, 1)])
    assert changed(d_before, model.discriminator.trainable_weights)


class RenamedHeadsACGAN(TinyACGAN):
    """D's heads under other names: the logs must still find op_acc."""

    def build_discriminator(self):
        img = keras.Input(self.img_shape)
        features = layers.Flatten()(layers.Conv2D(4, 3, strides=2)(img))
        return keras.Model(img, [layers.Dense(1, activation="sigmoid", name="source")(features),
                                 layers.Dense(10, activation="softmax", name="digit")(features)])


class StringAccuracyACGAN(TinyACGAN):
    """D compiled as Keras-GAN compiles it: the class head's metric named by
    the string "accuracy", which Keras resolves from the targets' shape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.discriminator.compile(loss=self.discriminator.loss,
                                   optimizer=self.discriminator.optimizer,
                                   metrics=[[binary_accuracy], ["accuracy"]])


@pytest.mark.parametrize("cls", [TinyACGAN, RenamedHeadsACGAN, StringAccuracyACGAN],
                         ids=lambda c: c.__name__)
def test_op_acc_is_read_by_metric_name_not_position(cls, tmp_path):
    gan = cls(dataset=tiny_mnist(), out_dir=str(tmp_path), seed=0)
    # Rig D's heads: every image "fake", every image "a 3".
    validity_head, class_head = (gan.discriminator.get_layer(name)
                                 for name in gan.discriminator.output_names)
    kernel, _ = validity_head.get_weights()
    validity_head.set_weights([np.zeros_like(kernel), np.array([-50.0], "float32")])
    kernel, bias = class_head.get_weights()
    class_head.set_weights([np.zeros_like(kernel), np.where(np.arange(10) == 3, 50.0, 0.0)
                            .astype("float32")])
    imgs = tiny_mnist(8)[0]
    real_labels = np.full((8, 1), 3, "int32")  # the real digits are all 3s: D is right
    noise, _ = noise_and_labels(8, gan.latent_dim)
    asked = np.array([[0], [1], [2], [4], [5], [6], [7], [8]], "int32")  # never a 3: D is wrong
    logs = {k: float(v) for k, v in compiled_step(gan)(imgs, real_labels, noise, asked).items()}
    assert set(logs) == LOG_NAMES
    # Class accuracy 1 on real, 0 on generated; real/fake accuracy the other way round.
    assert logs["op_acc_real"] == 1.0 and logs["op_acc_fake"] == 0.0 and logs["op_acc"] == 0.5
    assert logs["d_acc"] == 0.5


def test_train_writes_labelled_grid_and_loadable_conditional_generator(model, tmp_path):
    g_before = snapshot(model.generator.trainable_weights)
    d_before = snapshot(model.discriminator.trainable_weights)
    logs = model.train(epochs=3, batch_size=8, sample_interval=2, quiet=True)
    assert set(logs) == LOG_NAMES and all(0.0 <= logs[k] <= 1.0 for k in LOG_NAMES if "acc" in k)
    # A subclass with its own networks trains them with the inherited train().
    assert len(changed(g_before, model.generator.trainable_weights)) == len(g_before)
    assert len(changed(d_before, model.discriminator.trainable_weights)) == len(d_before)
    assert sorted(os.listdir(tmp_path / "images")) == ["mnist_0.png", "mnist_2.png"]
    import imageio.v3 as iio
    grid = iio.imread(tmp_path / "images" / "mnist_2.png")
    assert grid.shape[0] > 250 and grid.shape[1] > 250  # 10 x 10 digits and the labels
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    noise, labels = noise_and_labels(10, model.latent_dim)
    out = generator.predict([noise, labels], verbose=0)
    assert out.shape == (10, 28, 28, 1) and np.all(np.abs(out) <= 1.0)
    np.testing.assert_allclose(out, model.generator.predict([noise, labels], verbose=0),
                               atol=1e-6)
    validity, classes = keras.models.load_model(
        tmp_path / "saved_model" / "discriminator.keras").predict(out, verbose=0)
    assert validity.shape == (10, 1) and classes.shape == (10, 10)


def test_script_from_another_directory_writes_into_out(tmp_path, mnist_npz):
    work, out = tmp_path / "elsewhere", tmp_path / "run"
    work.mkdir()
    result = call_main(acgan_main, "--epochs", "2", "--sample-interval", "1",
                        "--batch-size", "8", "--out", str(out), "--seed", "1",
                        "--data", mnist_npz, cwd=work)
    assert result.returncode == 0, result.stderr
    assert "MNIST:" in result.stdout and "op_acc" in result.stdout
    assert sorted(os.listdir(out / "images")) == ["mnist_0.png", "mnist_1.png"]
    generator = keras.models.load_model(out / "saved_model" / "generator.keras")
    assert generator.predict([np.zeros((2, 100)), np.array([[1], [2]])],
                             verbose=0).shape == (2, 28, 28, 1)
    assert os.listdir(work) == []


def test_help_explains_that_an_epoch_is_one_batch(tmp_path):
    result = call_main(acgan_main, "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert '"epoch" is one batch' in text and "(default: 4000)" in text


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0"], "positive integer"),
    (["--dataset", "celeba"], "invalid choice"),
])
def test_bad_flags_end_with_one_clear_message(args, message, tmp_path):
    result = call_main(acgan_main, *args, "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
