"""InfoGAN's promises: G takes one input laid out noise, one-hot code,
continuous codes, and codes.json says so beside the saved generator; Q shares
D's body, and its head trains with G on generated images only (no real label
reaches the step); the combined step trains G and Q's head and leaves D as it
is; the compiled step equals the paper's recipe typed out here over several
steps (and a changed lambda or learning rate fails that comparison); resume
equals a straight run; the sample grid has one row per code value.

The mechanics run on a small subclass (a few units and filters; BatchNorm in
G, D's body and Q's head, as the real networks), built
here; the real networks are built once."""
import json
import os

import keras
import numpy as np
import pytest
from keras import layers, ops

from common import checkpoints
from common.data import ArrayImages
from common.frozen import frozen
from common.training import compiled_step
from conftest import (REPO, assert_frozen_d_contract, call_main, changed, run_script,
                      snapshot)
from infogan.infogan import INFOGAN, main as infogan_main
from tiny import stateful_layer_kinds

# On TensorFlow, no XLA: compiling it costs seconds these few steps never win back.
NO_XLA = False if keras.backend.backend() == "tensorflow" else None
LOG_NAMES = ["d_loss", "d_acc", "g_loss", "q_code_loss", "q_continuous_loss"]


class TinyINFOGAN(INFOGAN):
    """InfoGAN's recipe on networks of 4 and 8 filters and 16 units."""

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        return keras.Sequential([
            keras.Input((self.input_dim,)),
            layers.Dense(4 * rows * cols, use_bias=False),
            layers.BatchNormalization(momentum=0.8),
            layers.Activation("relu"),
            layers.Reshape((rows, cols, 4)),
            layers.UpSampling2D(),
            layers.Conv2D(4, 4, padding="same", activation="relu"),
            layers.UpSampling2D(),
            layers.Conv2D(self.channels, 4, padding="same", activation="tanh"),
        ], name="generator")

    def build_discriminator(self):
        img = keras.Input(self.img_shape)
        x = layers.LeakyReLU(0.2)(layers.Conv2D(4, 4, strides=2)(img))
        x = layers.Conv2D(8, 4, strides=2, use_bias=False)(x)
        x = layers.LeakyReLU(0.2)(layers.BatchNormalization(momentum=0.8)(x))
        features = layers.Flatten()(x)
        validity = layers.Dense(1, activation="sigmoid", name="validity")(features)
        return keras.Model(img, validity, name="discriminator")

    def build_q_head(self, feature_shape):
        features = keras.Input(feature_shape)
        x = layers.Dense(16, use_bias=False)(features)
        x = layers.LeakyReLU(0.2)(layers.BatchNormalization(momentum=0.8)(x))
        return keras.Model(features, [layers.Dense(self.num_classes, activation="softmax")(x),
                                      layers.Dense(self.continuous_dim)(x)], name="q_head")


@pytest.fixture
def digits(mnist):
    return ArrayImages(mnist[0][:256])


def g_and_q_head(gan):
    """What the combined step trains: G's weights and Q's head's."""
    return gan.generator.trainable_weights + gan.q_head.trainable_weights


def test_real_networks_take_noise_code_and_continuous_codes_and_q_shares_ds_body(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gan = INFOGAN(seed=0)
    assert gan.out_dir == os.path.join(REPO, "infogan")
    assert gan.codes() == {"noise": 62, "categorical": 10, "continuous": 2}
    assert [tuple(i.shape) for i in gan.generator.inputs] == [(None, 74)]
    z = gan.sample_generator_input(np.random.default_rng(0), 4)
    noise, code, continuous = gan.split_generator_input(z)
    assert noise.shape == (4, 62) and continuous.shape == (4, 2)
    np.testing.assert_array_equal(code.sum(axis=1), 1.0)  # one-hot
    assert -1 <= continuous.min() <= continuous.max() <= 1
    # The noise is the authors' Uniform(62) in [-1, 1], not Keras-GAN's normal.
    noise = gan.split_generator_input(gan.sample_generator_input(np.random.default_rng(0),
                                                                 500))[0]
    assert -1 <= noise.min() <= noise.max() <= 1
    assert noise.std() == pytest.approx(3 ** -0.5, abs=0.01)  # a normal's would be 1
    images = gan.generator.predict(z, verbose=0)
    assert images.shape == (4, 28, 28, 1) and -1 <= images.min() <= images.max() <= 1
    assert gan.discriminator.predict(images, verbose=0).shape == (4, 1)
    probabilities, means = gan.auxiliary.predict(images, verbose=0)
    assert probabilities.shape == (4, 10) and means.shape == (4, 2)
    # Q is D's body and a head of its own: every weight of D but the
    # real/fake head is Q's, and Q's head is in D nowhere.
    d_ids = {id(v) for v in gan.discriminator.weights}
    validity_head = {id(v) for v in gan.discriminator.get_layer("validity").weights}
    q_ids = {id(v) for v in gan.auxiliary.weights}
    assert d_ids - validity_head <= q_ids
    assert q_ids - d_ids == {id(v) for v in gan.q_head.weights}
    assert {id(v) for v in gan.combined.trainable_weights} == {id(v) for v in g_and_q_head(gan)}
    tiny = TinyINFOGAN(out_dir=str(tmp_path), seed=0)
    for real, small in [(gan.generator, tiny.generator), (gan.discriminator, tiny.discriminator),
                        (gan.q_head, tiny.q_head)]:
        assert stateful_layer_kinds(real) == stateful_layer_kinds(small), real.name


def test_combined_step_trains_g_and_q_head_and_leaves_discriminator_unchanged(tmp_path,
                                                                             mnist_batch):
    gan = TinyINFOGAN(out_dir=str(tmp_path), seed=0)
    images, _ = mnist_batch
    z = gan.sample_generator_input(np.random.default_rng(1), 16)
    _, code, continuous = gan.split_generator_input(z)
    valid = np.ones((16, 1))
    q_head = snapshot(gan.q_head.weights)
    # The frozen-D contract, with "G" standing for what the combined step
    # trains: G and Q's head (D's body, which Q shares, stays frozen).
    trained_with_g = type("GAndQHead", (), {"trainable_weights": g_and_q_head(gan)})()
    view = type("View", (), {"discriminator": gan.discriminator, "generator": trained_with_g,
                             "combined": gan.combined})()
    d_before = assert_frozen_d_contract(
        view, (images, valid), (z, {"validity": valid, "code": code, "continuous": continuous}))
    assert changed(d_before, gan.discriminator.weights) == []
    # D's own step never touched Q's head; the combined steps moved its
    # moving statistics too (they are Q's, not D's).
    assert len(changed(q_head, gan.q_head.weights)) == len(q_head)


def test_q_learns_from_generated_images_only(tmp_path, mnist):
    # Real images labelled all "3": no label reaches the step; the codes are drawn.
    images, _ = mnist
    labelled = ArrayImages(images[:64], labels=np.full(64, 3))
    gan = TinyINFOGAN(dataset=labelled, out_dir=str(tmp_path / "a"), seed=0)
    batch = gan.draw_batch(np.random.default_rng(0), 200)
    assert len(batch) == 3 and batch[0].shape == (200, 28, 28, 1)
    assert all(z.shape == (200, gan.input_dim) for z in batch[1:])
    _, code, _ = gan.split_generator_input(batch[2])
    assert len(np.unique(code.argmax(axis=1))) == 10
    # With D's learning rate 0, what G and Q's head learn cannot depend on
    # the real images at all: swap them for others, get the same G and Q.
    results = []
    for name, real in [("a", images[:8]), ("b", images[100:108])]:
        gan = TinyINFOGAN(out_dir=str(tmp_path / name), seed=0)
        gan.discriminator.optimizer.learning_rate.assign(0.0)
        step, rng = compiled_step(gan, jit_compile=NO_XLA), np.random.default_rng(1)
        for _ in range(2):
            step(real, gan.sample_generator_input(rng, 8), gan.sample_generator_input(rng, 8))
        results.append(snapshot(g_and_q_head(gan)))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# The recipe typed out with the paper's numbers (Chen et al., 2016, MNIST):
# D: Adam(2e-4, beta_1=0.5) on real/fake; G and Q: Adam(1e-3, beta_1=0.5) on
# -log D(G(z, c)) + 1 * CE(c_cat, Q(G)) + 0.1 * 0.5 * sum((c_cont - mean)^2),
# the paper's smaller lambda for the continuous codes.
PAPER = {"d_learning_rate": 2e-4, "g_learning_rate": 1e-3, "categorical_weight": 1.0,
         "continuous_weight": 0.1}


class PaperGAndQ(keras.Model):
    """G and Q's head trained on the paper's loss, x = G's input:
    -mean log D(G(x)) - lambda_cat * mean log Q(c | G(x)) + lambda_cont *
    mean 0.5 * sum((c - mean)^2), D and the body frozen."""

    def __init__(self, generator, d_with_features, q_head, weights):
        super().__init__()
        self.generator, self.q_head, self.weights_ = generator, q_head, weights
        self.d = frozen(d_with_features)

    def call(self, z, training=False):  # Keras' train step passes training=True only so
        validity, features = self.d(self.generator(z, training=training), training=training)
        return validity, *self.q_head(features, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        validity, probabilities, means = y_pred
        x = ops.convert_to_tensor(x)
        code, continuous = x[:, 62:72], x[:, 72:]
        adversarial = -ops.mean(ops.log(ops.clip(validity, 1e-7, 1.0)))
        information = (-self.weights_["categorical_weight"]
                       * ops.mean(ops.sum(code * ops.log(ops.clip(probabilities, 1e-7, 1.0)), -1))
                       + self.weights_["continuous_weight"]
                       * ops.mean(0.5 * ops.sum(ops.square(continuous - means), -1)))
        return adversarial + information


class PaperINFOGAN:
    """One step: D on a real batch, then on G's images of new inputs; then G
    and Q's head on fresh inputs."""

    def __init__(self, gan, numbers):
        self.generator = keras.models.clone_model(gan.generator)
        self.discriminator = keras.models.clone_model(gan.discriminator)
        self.q_head = keras.models.clone_model(gan.q_head)
        for ours, theirs in self.pairs(gan):
            theirs.set_weights(ours.get_weights())
        self.discriminator.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(
            numbers["d_learning_rate"], beta_1=0.5))
        features = self.discriminator.get_layer("validity").input
        d_with_features = keras.Model(self.discriminator.inputs,
                                      [self.discriminator.outputs[0], features])
        self.g_and_q = PaperGAndQ(self.generator, d_with_features, self.q_head, numbers)
        self.g_and_q.compile(optimizer=keras.optimizers.Adam(numbers["g_learning_rate"],
                                                             beta_1=0.5))
        for model in (self.discriminator, self.g_and_q):
            model.run_eagerly = True

    def pairs(self, gan):
        return [(gan.generator, self.generator), (gan.discriminator, self.discriminator),
                (gan.q_head, self.q_head)]

    def train_step(self, imgs, d_input, g_input):
        n = len(imgs)
        fake_imgs = ops.convert_to_numpy(self.generator(d_input, training=False))
        d_real = self.discriminator.train_on_batch(imgs, np.ones((n, 1)), return_dict=True)
        d_fake = self.discriminator.train_on_batch(fake_imgs, np.zeros((n, 1)), return_dict=True)
        g = self.g_and_q.train_on_batch(g_input, return_dict=True)
        return 0.5 * (d_real["loss"] + d_fake["loss"]), g["loss"]


def training_apart(gan, reference, initial):
    """Per network, how far apart the two trainings moved the weights
    (relative): float noise moves a few values, a changed number all of them."""
    apart = {}
    for ours, theirs in reference.pairs(gan):
        start = initial[ours.name]
        ours_moved = np.concatenate([(w.numpy() - w0).ravel()
                                     for w, w0 in zip(ours.trainable_weights, start)])
        theirs_moved = np.concatenate([(w.numpy() - w0).ravel()
                                       for w, w0 in zip(theirs.trainable_weights, start)])
        apart[ours.name] = (np.linalg.norm(ours_moved - theirs_moved)
                            / np.linalg.norm(theirs_moved))
    return apart


def test_compiled_step_equals_the_papers_recipe_typed_out(tmp_path, digits):
    gan = TinyINFOGAN(dataset=digits, out_dir=str(tmp_path), seed=1)
    initial = {net.name: snapshot(net.trainable_weights)
               for net in (gan.generator, gan.discriminator, gan.q_head)}
    changed_numbers = [dict(PAPER, categorical_weight=0.8), dict(PAPER, g_learning_rate=8e-4),
                       dict(PAPER, continuous_weight=1.0)]
    references = [PaperINFOGAN(gan, numbers) for numbers in [PAPER] + changed_numbers]
    step = compiled_step(gan, jit_compile=NO_XLA)
    rng = np.random.default_rng(0)
    for i in range(3):
        batch = gan.draw_batch(rng, 8)
        ours = step(*batch)
        for reference in references:
            d_loss, g_loss = reference.train_step(*batch)
            if reference is references[0]:
                np.testing.assert_allclose(float(ours["d_loss"]), d_loss, rtol=2e-4, atol=1e-5)
                total = sum(float(ours[k]) for k in ("g_loss", "q_code_loss",
                                                     "q_continuous_loss"))
                np.testing.assert_allclose(total, g_loss, rtol=2e-4, atol=1e-5)
    apart = training_apart(gan, references[0], initial)
    assert all(difference < 1e-3 for difference in apart.values()), apart
    # The comparison sees the recipe's numbers: each changed one sets a
    # network's training far apart from ours.
    for numbers, reference in zip(changed_numbers, references[1:]):
        apart = training_apart(gan, reference, initial)
        assert max(apart.values()) > 1e-2, (numbers, apart)


def test_resume_equals_straight_run_with_every_network_and_optimizer(tmp_path, digits):
    straight = TinyINFOGAN(dataset=digits, out_dir=str(tmp_path / "straight"), seed=5)
    straight.train(epochs=4, batch_size=8, sample_interval=10, quiet=True, jit_compile=NO_XLA)
    first = TinyINFOGAN(dataset=digits, out_dir=str(tmp_path / "resumed"), seed=5)
    first.train(epochs=2, batch_size=8, sample_interval=10, quiet=True, jit_compile=NO_XLA)
    second = TinyINFOGAN(dataset=digits, out_dir=str(tmp_path / "resumed"), seed=99)
    second.train(epochs=4, batch_size=8, sample_interval=10, quiet=True, resume=True,
                 jit_compile=NO_XLA)
    saved = {id(v) for v in checkpoints._state_variables(second)}
    # Q's head (weights and moving statistics) and both optimizers are in the checkpoint.
    assert {id(v) for v in second.q_head.weights} <= saved
    for model, updates in [(second.discriminator, 8), (second.combined, 4)]:  # D: real, fake
        assert {id(v) for v in model.optimizer.variables} <= saved
        assert int(ops.convert_to_numpy(model.optimizer.iterations)) == updates
    for a, b in zip(checkpoints._state_variables(straight), checkpoints._state_variables(second)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_train_writes_ten_row_grid_codes_json_and_loadable_generator(tmp_path, digits):
    gan = TinyINFOGAN(dataset=digits, out_dir=str(tmp_path), seed=0)
    logs = gan.train(epochs=2, batch_size=8, sample_interval=1, quiet=True, jit_compile=NO_XLA)
    assert list(logs) == LOG_NAMES
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == \
        "step," + ",".join(LOG_NAMES)
    # The grid's inputs: row k holds code k; a column keeps its noise, down the rows.
    noise, code, continuous = gan.split_generator_input(gan.sample_noise)
    np.testing.assert_array_equal(code.argmax(axis=1), np.repeat(np.arange(10), 10))
    np.testing.assert_array_equal(noise.reshape(10, 10, -1), np.tile(noise[:10], (10, 1, 1)))
    assert not continuous.any()
    import imageio.v3 as iio
    assert sorted(os.listdir(tmp_path / "images")) == ["mnist_0.png", "mnist_1.png"]
    grid = iio.imread(tmp_path / "images" / "mnist_1.png")
    tiles = (10 * (28 + 1) + 1) * 3  # 10 images and their borders, 3 pixels a pixel
    assert grid.shape[:2] == (tiles, tiles)  # 10 rows (one per code value), 10 columns
    folder = tmp_path / "saved_model"
    codes = json.loads((folder / "codes.json").read_text())
    assert codes == {"noise": 62, "categorical": 10, "continuous": 2}
    generator = keras.models.load_model(folder / "generator.keras")
    z = np.zeros((3, sum(codes.values())), "float32")
    z[:, codes["noise"] + 4] = 1.0  # categorical code 4
    out = generator.predict(z, verbose=0)
    assert out.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(out, gan.generator.predict(z, verbose=0), atol=1e-6)
    assert keras.models.load_model(folder / "discriminator.keras").predict(
        out, verbose=0).shape == (3, 1)


def test_script_runs_from_another_folder_and_answers_help(tmp_path, mnist_npz):
    result = call_main(infogan_main, "--epochs", "1", "--batch-size", "4",
                       "--out", str(tmp_path / "run"), "--data", mnist_npz, "--quiet",
                       "--precision", "float32", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.isfile(tmp_path / "run" / "saved_model" / "generator.keras")
    assert os.path.isfile(tmp_path / "run" / "saved_model" / "codes.json")
    result = call_main(infogan_main, "--categorical-weight", "-1", cwd=tmp_path)
    assert result.returncode == 2 and "--categorical-weight" in result.stderr
    assert "Traceback" not in result.stderr
    help_text = run_script("infogan/infogan.py", "--help", cwd=tmp_path, timeout=60).stdout
    assert "--continuous-weight" in help_text and "(default: 62)" in help_text
