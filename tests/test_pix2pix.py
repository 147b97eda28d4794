"""Pix2Pix's promises: a U-Net G and a PatchGAN D on (output, input) pairs, a
combined model that takes B only, the compiled step equal to Keras-GAN's
train_on_batch loop over several steps (and not when one recipe number
changes), exact resume, a short run writing grids, scores and a loadable
generator, the pix2pix folder layout and its errors, the offline task's
held-out photos, and scores against the do-nothing baseline. What every model
promises (the frozen D, the compiled step seeing its new weights, PyTorch's
recorded step, bfloat16; its networks declared, its artefacts told apart from
other models') is checked with the others: tests/test_backends.py,
test_model_contract.py, test_wrong_artefacts.py."""
import csv
import os

import keras
import numpy as np
import pytest
from keras.layers import BatchNormalization, Concatenate, Conv2D, Input, LeakyReLU, UpSampling2D
from keras.models import Model
from keras.optimizers import Adam

from conftest import call_main, changed, run_script, snapshot
from test_recipes import (LOGS_TOLERANCE, STATE_TOLERANCE, compiled, float64,  # noqa: F401
                          in_float64, relative_difference, start_alike, state)
from common import checkpoints, paired
from common.errors import UserError
from common.frozen import frozen
from common.paired import evaluate_command
from pix2pix.pix2pix import Pix2Pix, unet_depth
from pix2pix.pix2pix import main as pix2pix_main
from tiny import TinyPix2Pix, paired_photos, smooth_photo

SIZE = 32


def pix2pix_of_4_filters(**kwargs):
    """Pix2Pix's own networks with 4 filters in the first layer of G and D
    (Keras-GAN: 64), at 32x32: the same layers, BatchNorm where the recipe has it."""
    return Pix2Pix(img_shape=(SIZE, SIZE, 3), gf=4, df=4, **kwargs)


def write_pairs(folder, count, size=(40, 80), start=0):
    """`count` pair files in `folder`: A (left) a smooth photo, B (right) its mirror image."""
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        a = smooth_photo(start + i, (size[0], size[1] // 2))
        Image.fromarray(np.concatenate([a, a[:, ::-1]], axis=1)).save(
            os.path.join(folder, f"{i:03d}.png"))


@pytest.fixture
def gan(tmp_path):
    return TinyPix2Pix(dataset=paired_photos(), out_dir=str(tmp_path), precision="float32", seed=0)


# ---------------------------------------------------------------------------
#  The networks
# ---------------------------------------------------------------------------

def test_real_networks_are_a_unet_to_2x2_and_a_16x_patch_discriminator(tmp_path):
    gan = Pix2Pix(img_shape=(64, 64, 3), gf=8, df=8, out_dir=str(tmp_path), seed=0)
    assert gan.depth == 5 and unet_depth(256) == 7 and unet_depth(128) == 6
    assert min(layer.output.shape[1] for layer in gan.generator.layers) == 2
    out = gan.generator.predict(np.zeros((2, 64, 64, 3), "float32"), verbose=0)
    assert out.shape == (2, 64, 64, 3) and np.all(np.abs(out) <= 1)
    assert gan.disc_patch == (4, 4, 1)
    scores = gan.discriminator.predict([np.zeros((2, 64, 64, 3))] * 2, verbose=0)
    assert scores.shape == (2, 4, 4, 1)
    assert len(gan.combined.inputs) == 1  # B only
    validity, fake = gan.combined.predict(np.zeros((2, 64, 64, 3), "float32"), verbose=0)
    assert validity.shape == (2, 4, 4, 1) and fake.shape == (2, 64, 64, 3)
    with pytest.raises(UserError, match="multiple of 16"):
        Pix2Pix(img_shape=(40, 40, 3), out_dir=str(tmp_path))


def test_input_skip_starts_as_the_do_nothing_baseline_and_learns_a_change(tmp_path):
    from pix2pix.pix2pix import command_line
    assert command_line().parse_args([]).input_skip  # the command line's default
    assert not command_line().parse_args(["--no-input-skip"]).input_skip  # Keras-GAN's G
    gan = pix2pix_of_4_filters(dataset=paired_photos(), out_dir=str(tmp_path), input_skip=True,
                               seed=0, precision="float32")
    assert gan.config()["input_skip"] is True
    flat = gan.measure()
    for metric in ("psnr", "ssim", "l1"):
        assert flat[f"{metric}_g"] == pytest.approx(flat[f"{metric}_input"])
    gan.train(epochs=2, batch_size=2, sample_interval=5, quiet=True)
    _, inputs = gan.dataset.test_pairs()
    assert np.abs(gan.generator.predict(inputs, verbose=0) - inputs).mean() > 1e-4


# ---------------------------------------------------------------------------
#  The compiled step is Keras-GAN's loop
# ---------------------------------------------------------------------------

class KerasGANPix2Pix:
    """Keras-GAN's pix2pix/pix2pix.py typed out for Keras 3 at 32x32 (4 downsampling
    layers where Keras-GAN's 256x256 has 7), with `gf`/`df` filters in the first
    layers (Keras-GAN: 64). Two documented differences: one Adam per model (a
    Keras 3 optimizer belongs to one set of weights) and the combined model takes
    B only (Keras-GAN's also takes A, unused), with D frozen by `frozen(D)`."""

    def __init__(self, gf=4, df=4, lr=0.0002, beta_1=0.5, l1_weight=100, momentum=0.8,
                 fake_label=0.0):
        self.img_rows = self.img_cols = SIZE
        self.channels = 3
        self.img_shape = (self.img_rows, self.img_cols, self.channels)
        patch = int(self.img_rows / 2**4)
        self.disc_patch = (patch, patch, 1)
        self.gf, self.df, self.momentum, self.fake_label = gf, df, momentum, fake_label

        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss='mse', optimizer=Adam(lr, beta_1), metrics=['accuracy'])

        self.generator = self.build_generator()
        img_B = Input(shape=self.img_shape)
        fake_A = self.generator(img_B)
        valid = frozen(self.discriminator)([fake_A, img_B])
        self.combined = Model(img_B, [valid, fake_A])
        self.combined.compile(loss=['mse', 'mae'], loss_weights=[1, l1_weight],
                              optimizer=Adam(lr, beta_1))

    def build_generator(self):
        def conv2d(layer_input, filters, f_size=4, bn=True):
            d = Conv2D(filters, kernel_size=f_size, strides=2, padding='same')(layer_input)
            d = LeakyReLU(negative_slope=0.2)(d)
            if bn:
                d = BatchNormalization(momentum=self.momentum)(d)
            return d

        def deconv2d(layer_input, skip_input, filters, f_size=4):
            u = UpSampling2D(size=2)(layer_input)
            u = Conv2D(filters, kernel_size=f_size, strides=1, padding='same',
                       activation='relu')(u)
            u = BatchNormalization(momentum=self.momentum)(u)
            u = Concatenate()([u, skip_input])
            return u

        d0 = Input(shape=self.img_shape)
        d1 = conv2d(d0, self.gf, bn=False)
        d2 = conv2d(d1, self.gf * 2)
        d3 = conv2d(d2, self.gf * 4)
        d4 = conv2d(d3, self.gf * 8)
        u1 = deconv2d(d4, d3, self.gf * 4)
        u2 = deconv2d(u1, d2, self.gf * 2)
        u3 = deconv2d(u2, d1, self.gf)
        u4 = UpSampling2D(size=2)(u3)
        output_img = Conv2D(self.channels, kernel_size=4, strides=1, padding='same',
                            activation='tanh')(u4)
        return Model(d0, output_img)

    def build_discriminator(self):
        def d_layer(layer_input, filters, f_size=4, bn=True):
            d = Conv2D(filters, kernel_size=f_size, strides=2, padding='same')(layer_input)
            d = LeakyReLU(negative_slope=0.2)(d)
            if bn:
                d = BatchNormalization(momentum=self.momentum)(d)
            return d

        img_A = Input(shape=self.img_shape)
        img_B = Input(shape=self.img_shape)
        combined_imgs = Concatenate(axis=-1)([img_A, img_B])
        d1 = d_layer(combined_imgs, self.df, bn=False)
        d2 = d_layer(d1, self.df * 2)
        d3 = d_layer(d2, self.df * 4)
        d4 = d_layer(d3, self.df * 8)
        validity = Conv2D(1, kernel_size=4, strides=1, padding='same')(d4)
        return Model([img_A, img_B], validity)

    def train_step(self, imgs_A, imgs_B):
        batch_size = len(imgs_A)
        valid = np.ones((batch_size,) + self.disc_patch)
        fake = np.zeros((batch_size,) + self.disc_patch) + self.fake_label

        fake_A = self.generator.predict(imgs_B, verbose=0)
        d_loss_real = self.discriminator.train_on_batch([imgs_A, imgs_B], valid)
        d_loss_fake = self.discriminator.train_on_batch([fake_A, imgs_B], fake)
        d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)

        g_loss = self.combined.train_on_batch(imgs_B, [valid, imgs_A], return_dict=True)
        return {"d_loss": d_loss[0], "g_loss": g_loss["loss"]}


STEPS = 5


def train_both(tmp_path, **changes):
    gan = in_float64(pix2pix_of_4_filters(dataset=paired_photos(), out_dir=str(tmp_path), seed=1,
                                 precision="float32"))
    reference = KerasGANPix2Pix(**changes)
    start_alike(gan, reference)
    initial = {model.name: [w.numpy().copy() for w in model.weights]
               for model in (gan.generator, gan.discriminator)}
    renamed = {reference.generator.name: initial[gan.generator.name],
               reference.discriminator.name: initial[gan.discriminator.name]}
    step = compiled(gan)
    rng = np.random.default_rng(0)
    logs, states = [], []
    for i in range(STEPS):
        batch = gan.draw_batch(rng, 3)
        ours = step(*batch)
        theirs = reference.train_step(*batch)
        logs.append(({k: float(ours[k]) for k in theirs}, {k: float(v) for k, v in theirs.items()}))
        if i in (1, STEPS - 1):
            states.append((state(gan, initial), state(reference, renamed)))
    return logs, states


def largest_differences(logs, states):
    """Per step the largest relative difference of the logs, and after 2 and 5
    steps the largest of the state groups."""
    log_gaps = [max(relative_difference(ours[k], theirs[k]) for k in theirs)
                for ours, theirs in logs]
    state_gaps = []
    for ours, theirs in states:
        assert ours.keys() == theirs.keys()
        state_gaps.append(max(relative_difference(ours[k], theirs[k]) for k in ours))
    return log_gaps, state_gaps


def test_compiled_step_equals_keras_gan_loop_over_five_steps(tmp_path, float64):  # noqa: F811
    log_gaps, state_gaps = largest_differences(*train_both(tmp_path))
    assert all(gap < tol for gap, tol in zip(log_gaps, LOGS_TOLERANCE)), log_gaps
    assert all(gap < tol for gap, tol in zip(state_gaps, STATE_TOLERANCE)), state_gaps


@pytest.mark.parametrize("change", [{"l1_weight": 10}, {"beta_1": 0.9}, {"momentum": 0.9}])
def test_the_comparison_fails_when_one_recipe_number_changes(tmp_path, float64, change):  # noqa: F811
    log_gaps, state_gaps = largest_differences(*train_both(tmp_path, **change))
    assert any(gap >= tol for gap, tol in zip(log_gaps, LOGS_TOLERANCE)) or \
        any(gap >= tol for gap, tol in zip(state_gaps, STATE_TOLERANCE)), (log_gaps, state_gaps)


# ---------------------------------------------------------------------------
#  Training, resume, files
# ---------------------------------------------------------------------------

def test_resume_equals_straight_run(tmp_path):
    """On tiny networks (tests/tiny.py): resume carries every declared
    network's state, whatever its layers."""
    import shutil
    data = paired_photos()
    straight = TinyPix2Pix(dataset=data, out_dir=str(tmp_path / "straight"), seed=5,
                           precision="float32")
    straight.train(epochs=2, batch_size=2, sample_interval=2, quiet=True)
    shutil.copytree(tmp_path / "straight", tmp_path / "resumed")  # the run at step 2
    straight.train(epochs=2, batch_size=2, sample_interval=2, quiet=True)  # on to step 4
    second = TinyPix2Pix(dataset=data, out_dir=str(tmp_path / "resumed"), seed=99,
                         precision="float32")
    second.train(epochs=4, batch_size=2, sample_interval=2, quiet=True, resume=True)
    assert int(second.combined.optimizer.iterations.numpy()) == 4
    assert int(second.discriminator.optimizer.iterations.numpy()) == 8
    for a, b in zip(checkpoints._state_variables(straight), checkpoints._state_variables(second),
                    strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)


def test_tiny_run_writes_grids_scores_and_a_loadable_generator(gan, tmp_path):
    g_before = snapshot(gan.generator.trainable_weights)
    d_before = snapshot(gan.discriminator.trainable_weights)
    logs = gan.train(epochs=3, batch_size=2, sample_interval=2, quiet=True)
    assert set(logs) >= {"d_loss", "d_acc", "g_loss"}
    assert len(changed(g_before, gan.generator.trainable_weights)) == len(g_before)
    assert len(changed(d_before, gan.discriminator.trainable_weights)) == len(d_before)
    assert sorted(os.listdir(tmp_path / "images")) == ["pix2pix_0.png", "pix2pix_2.png"]
    with open(tmp_path / "history.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r["psnr_g"]]
    assert [int(r["step"]) for r in rows] == [0, 2]
    for row in rows:
        assert {"psnr_g", "ssim_g", "l1_g", "psnr_input", "ssim_input", "l1_input"} <= set(row)
        # The baseline is B itself: the same number at every step.
        assert float(row["psnr_input"]) == pytest.approx(float(rows[0]["psnr_input"]))
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    _, inputs = gan.dataset.test_pairs()
    np.testing.assert_allclose(generator.predict(inputs, verbose=0),
                               gan.generator.predict(inputs, verbose=0), atol=1e-5)
    keras.models.load_model(tmp_path / "saved_model" / "discriminator.keras")


# ---------------------------------------------------------------------------
#  Scores against the do-nothing baseline
# ---------------------------------------------------------------------------

def identity_generator(size=SIZE):
    image = keras.Input((size, size, 3))
    return keras.Model(image, keras.layers.Identity()(image))


def test_scores_are_skimage_metrics_and_the_do_nothing_generator_ties_the_baseline():
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity
    data = paired_photos(n_test=2)
    compared = paired.compare_with_input(identity_generator(), data)
    flat = paired.flat_scores(compared)
    for metric in ("psnr", "ssim", "l1"):
        assert flat[f"{metric}_g"] == pytest.approx(flat[f"{metric}_input"])
    targets, inputs = data.test_pairs()
    assert len(targets) == 2 * paired.TEST_CROPS_PER_PHOTO
    to8 = lambda x: np.round((x + 1) * 127.5).astype(np.uint8)  # noqa: E731
    expected_psnr = np.mean([peak_signal_noise_ratio(to8(t), to8(x), data_range=255)
                             for t, x in zip(targets, inputs)])
    expected_ssim = np.mean([structural_similarity(to8(t), to8(x), data_range=255,
                                                   channel_axis=-1, gaussian_weights=True,
                                                   sigma=1.5, use_sample_covariance=False)
                             for t, x in zip(targets, inputs)])
    assert flat["psnr_input"] == pytest.approx(expected_psnr, rel=1e-6)
    assert flat["ssim_input"] == pytest.approx(expected_ssim, abs=2e-2)
    assert flat["l1_input"] == pytest.approx(np.abs(to8(targets) / 127.5 - to8(inputs) / 127.5)
                                             .mean(), rel=1e-6)
    # The baseline is beaten by a generator that restores: here, one that
    # averages the noise away over 3x3 pixels beats the noisy input.
    image = keras.Input((SIZE, SIZE, 3))
    smooth = keras.layers.AveragePooling2D(3, strides=1, padding="same")(image)
    better = paired.flat_scores(paired.compare_with_input(keras.Model(image, smooth), data))
    assert better["psnr_g"] > flat["psnr_input"] + 1


def test_evaluate_scores_a_saved_generator_on_a_folder_of_pairs(tmp_path, capsys):
    write_pairs(tmp_path / "data" / "train", 3)
    write_pairs(tmp_path / "data" / "val", 2, start=10)
    path = str(tmp_path / "g.keras")
    identity_generator().save(path)
    flat = evaluate_command(path, str(tmp_path / "data"))
    out = capsys.readouterr().out
    assert "2 test pairs" in out and "PSNR" in out
    assert flat["psnr_g"] == pytest.approx(flat["psnr_input"])
    assert os.path.exists(tmp_path / "g_evaluation.png")


def test_translate_writes_each_image_at_its_own_size(tmp_path):
    from PIL import Image
    path = str(tmp_path / "g.keras")
    identity_generator().save(path)
    os.makedirs(tmp_path / "mine")
    Image.fromarray(smooth_photo(3, (48, 72))).save(tmp_path / "mine" / "a.png")
    Image.fromarray(smooth_photo(4, (40, 40))).save(tmp_path / "mine" / "b.jpg")
    result = call_main(pix2pix_main, "--translate", str(tmp_path / "mine"), "--generator", path,
                       "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["a_pix2pix.png", "b_pix2pix.png"]
    out = np.asarray(Image.open(tmp_path / "out" / "a_pix2pix.png"))
    assert out.shape == (48, 72, 3)
    # The identity G at 32x32: the photo back, smooth enough to survive the resizing.
    assert np.abs(out.astype(float) - smooth_photo(3, (48, 72))).mean() < 6
    single = call_main(pix2pix_main, "--translate", str(tmp_path / "mine" / "a.png"),
                       "--generator", path, cwd=tmp_path)
    assert single.returncode == 0 and os.path.exists(tmp_path / "mine" / "a_pix2pix.png")
    for args, message in [(["--generator", path], "without --translate"),
                          (["--translate", str(tmp_path / "mine")], "needs the generator"),
                          (["--translate", str(tmp_path / "none.png"), "--generator", path],
                           "does not exist")]:
        bad = call_main(pix2pix_main, *args, cwd=tmp_path)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr


# ---------------------------------------------------------------------------
#  Data: the pix2pix layout, directions, the offline task, bad input
# ---------------------------------------------------------------------------

def test_folder_pairs_split_halves_and_direction(tmp_path):
    from PIL import Image
    for split, count in (("train", 2), ("test", 1)):
        os.makedirs(tmp_path / split)
        for i in range(count):
            pair = np.zeros((32, 64, 3), np.uint8)
            pair[:, :32, 0] = 255  # A: red, left
            pair[:, 32:, 2] = 255  # B: blue, right
            Image.fromarray(pair).save(tmp_path / split / f"{i}.jpg", quality=100)
    data = paired.load_paired(str(tmp_path), img_size=16, verbose=False)
    targets, inputs = data.sample(np.random.default_rng(0), 4)
    assert targets.shape == inputs.shape == (4, 16, 16, 3)
    assert targets[..., 0].mean() > 0.9 and inputs[..., 2].mean() > 0.9  # G: B (blue) -> A (red)
    flipped = paired.load_paired(str(tmp_path), img_size=16, direction="AtoB", verbose=False)
    targets, inputs = flipped.test_pairs()
    assert targets[..., 2].mean() > 0.9 and inputs[..., 0].mean() > 0.9
    assert len(targets) == 1


def test_halves_larger_than_img_size_get_a_hint_to_train_nearer_their_size(tmp_path, capsys):
    # Shrinking 40x40 halves to 16 averages a fine degradation away: the
    # loader says so once, with the --img-size that keeps more of them.
    write_pairs(tmp_path / "train", 2, size=(40, 80))
    write_pairs(tmp_path / "test", 1, size=(40, 80))
    paired.load_paired(str(tmp_path), img_size=16)
    message = capsys.readouterr().out
    assert "each half resized to 16x16 (the halves of 000.png are 40x40" in message
    assert "--img-size 32 keeps more of them" in message
    paired.load_paired(str(tmp_path), img_size=48)  # enlarged: nothing is averaged away
    message = capsys.readouterr().out
    assert message.rstrip().endswith("each half resized to 48x48.")


def test_a_folder_trains_at_its_halves_own_size_unless_told(tmp_path, capsys):
    # Without --img-size a folder's halves keep their side, rounded down to a
    # multiple of 16 and at most 128 (shrunk further, a fine degradation is
    # averaged away: docs/results.md, "At the pairs' own size").
    write_pairs(tmp_path / "small" / "train", 2, size=(40, 80))
    write_pairs(tmp_path / "small" / "test", 1, size=(40, 80))
    assert paired.load_paired(str(tmp_path / "small")).shape == (32, 32, 3)
    message = capsys.readouterr().out
    assert "each half at 32x32, its own size (rounded down" in message
    write_pairs(tmp_path / "large" / "train", 1, size=(300, 600))
    write_pairs(tmp_path / "large" / "test", 1, size=(300, 600))
    data = paired.load_paired(str(tmp_path / "large"))
    assert data.shape == (paired.MAX_OWN_SIZE, paired.MAX_OWN_SIZE, 3) == (128, 128, 3)
    assert data.test_pairs()[0].shape == (1, 128, 128, 3)
    message = capsys.readouterr().out
    assert "each half resized to 128x128 (the halves of 000.png are 300x300" in message
    assert "--img-size 288 keeps more of them" in message
    # Halves smaller than 16 are enlarged to G's smallest side, and said so.
    write_pairs(tmp_path / "tiny" / "train", 1, size=(10, 20))
    write_pairs(tmp_path / "tiny" / "test", 1, size=(10, 20))
    assert paired.load_paired(str(tmp_path / "tiny")).shape == (16, 16, 3)
    assert capsys.readouterr().out.rstrip().endswith("each half resized to 16x16.")
    # Halves that are not square are squeezed to a square: not their own size.
    write_pairs(tmp_path / "wide" / "train", 1, size=(48, 128))
    write_pairs(tmp_path / "wide" / "test", 1, size=(48, 128))
    assert paired.load_paired(str(tmp_path / "wide")).shape == (48, 48, 3)
    message = capsys.readouterr().out
    assert "each half resized to 48x48" in message and "its own size" not in message
    # Asked for, a size is kept, and named the halves' own where it is theirs;
    # the offline task stays at 64.
    assert paired.load_paired(str(tmp_path / "large"), img_size=48).shape == (48, 48, 3)
    assert "each half resized to 48x48" in capsys.readouterr().out
    assert paired.load_paired(str(tmp_path / "large"), img_size=288).shape == (288, 288, 3)
    assert "each half at 288x288, its own size (rounded down" in capsys.readouterr().out
    assert paired.load_paired(None, verbose=False).shape == (64, 64, 3)


def test_training_pairs_are_flipped_together(tmp_path):
    from PIL import Image
    os.makedirs(tmp_path / "train")
    os.makedirs(tmp_path / "val")
    half = np.zeros((16, 16, 3), np.uint8)
    half[:, 8:] = 255  # white on the right
    Image.fromarray(np.concatenate([half, half], axis=1)).save(tmp_path / "train" / "a.png")
    Image.fromarray(np.concatenate([half, half], axis=1)).save(tmp_path / "val" / "a.png")
    data = paired.load_paired(str(tmp_path), img_size=16, verbose=False)
    targets, inputs = data.sample(np.random.default_rng(0), 32)
    np.testing.assert_array_equal(targets, inputs)
    left_white = targets[:, 0, 0, 0] > 0
    assert left_white.any() and (~left_white).any()


def test_offline_task_keeps_the_test_photos_apart(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    from common import photos
    data = paired.load_paired(None, img_size=64)
    message = capsys.readouterr().out
    assert message.count("\n") == 1 and "offline task" in message and "held out" in message
    assert set(photos.PACKAGED_TEST).isdisjoint(photos.PACKAGED_TRAIN)
    held_out = {p.tobytes() for p in data.test}
    assert held_out and not any(p.tobytes() in held_out for p in data.train)
    targets, inputs = data.test_pairs()
    assert len(targets) == len(data.test) * paired.TEST_CROPS_PER_PHOTO
    # Fixed: the same test crops and the same noise every time.
    again = paired.load_paired(None, img_size=64, verbose=False).test_pairs()
    np.testing.assert_array_equal(again[1], inputs)
    # No training crop is one of the test crops.
    train_targets, train_inputs = data.sample(np.random.default_rng(0), 64)
    test_set = {t.tobytes() for t in targets}
    assert not any(t.tobytes() in test_set for t in train_targets)
    # B is A degraded: close, but not equal.
    assert 0 < np.abs(train_targets - train_inputs).mean() < 0.3
    with pytest.raises(UserError, match="AtoB needs a folder"):
        paired.load_paired(None, direction="AtoB")


def test_bad_folders_are_one_sentence_each(tmp_path):
    from PIL import Image
    with pytest.raises(UserError, match="does not exist"):
        paired.load_paired(str(tmp_path / "missing"))
    with pytest.raises(UserError, match="has no train/ subfolder"):
        paired.load_paired(str(tmp_path))
    write_pairs(tmp_path / "train", 2)
    with pytest.raises(UserError, match="neither test/ nor val/"):
        paired.load_paired(str(tmp_path))
    os.makedirs(tmp_path / "test")
    with pytest.raises(UserError, match="holds no .jpg or .png"):
        paired.load_paired(str(tmp_path))
    write_pairs(tmp_path / "test", 1)
    paired.load_paired(str(tmp_path), verbose=False)  # now right
    # A single image where pairs are expected, named.
    Image.fromarray(smooth_photo(1, (48, 48))).save(tmp_path / "train" / "single.png")
    with pytest.raises(UserError, match=r"single\.png is 48x48 pixels, a single image"):
        paired.load_paired(str(tmp_path))
    os.remove(tmp_path / "train" / "single.png")
    # Halves of different sizes (an odd width), named.
    Image.fromarray(smooth_photo(1, (40, 81))).save(tmp_path / "test" / "odd.png")
    with pytest.raises(UserError, match=r"odd\.png is 81 pixels wide, an odd width"):
        paired.load_paired(str(tmp_path))
    os.remove(tmp_path / "test" / "odd.png")
    # A file that is not an image, named.
    (tmp_path / "train" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match=r"broken\.jpg cannot be read"):
        paired.load_paired(str(tmp_path))
    # Through the command line: exit status 2, one line, no traceback.
    result = call_main(pix2pix_main, "--data", str(tmp_path), "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: Image") and "broken.jpg" in last
    assert "Traceback" not in result.stderr


def test_script_trains_on_a_folder_of_pairs(tmp_path):
    write_pairs(tmp_path / "data" / "train", 3)
    write_pairs(tmp_path / "data" / "test", 2, start=10)
    result = call_main(pix2pix_main, "--data", str(tmp_path / "data"), "--img-size", "32",
                       "--gf", "4", "--df", "4", "--epochs", "2", "--batch-size", "2",
                       "--sample-interval", "1", "--out", str(tmp_path / "run"), "--quiet",
                       "--precision", "float32", "--seed", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "run" / "history.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r["psnr_g"]]
    assert [int(r["step"]) for r in rows] == [0, 1]
    assert os.path.exists(tmp_path / "run" / "saved_model" / "generator.keras")


@pytest.mark.slow
def test_script_runs_from_another_folder(tmp_path):
    write_pairs(tmp_path / "data" / "train", 3)
    write_pairs(tmp_path / "data" / "val", 1, start=10)
    result = run_script("pix2pix/pix2pix.py", "--data", str(tmp_path / "data"), "--img-size",
                        "32", "--gf", "4", "--df", "4", "--epochs", "1", "--batch-size", "2",
                        "--out", str(tmp_path / "run"), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.exists(tmp_path / "run" / "saved_model" / "generator.keras")
