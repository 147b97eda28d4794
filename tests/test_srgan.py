"""SRGAN's promises: a patch D, a combined model that takes the LR image only and
leaves D untouched, a tiny run that writes figures, PSNR/SSIM history and a
loadable generator, bicubic LR made from the HR target, a held-out split
training never sees, and clear errors."""
import csv
import os

import keras
import numpy as np
import pytest

from conftest import REPO, assert_frozen_d_contract, call_main, changed, snapshot
from tiny import TinySRGAN, stateful_layer_kinds
from srgan.srgan import main as srgan_main
from common.errors import UserError
from common.photos import HighResPhotos, downscale, load_photos
from srgan.srgan import SRGAN


def photo(seed, size=(80, 96)):
    """A smooth random colour photo, uint8."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3)).astype(np.uint8)
    from PIL import Image
    return np.asarray(Image.fromarray(small).resize((size[1], size[0]), Image.BICUBIC))


@pytest.fixture
def small_photos():
    return HighResPhotos([photo(i) for i in range(4)], [photo(10, (48, 64))], hr_size=32)


@pytest.fixture
def gan(small_photos, tmp_path):
    return TinySRGAN(hr_shape=(32, 32, 3), dataset=small_photos, out_dir=str(tmp_path),
                     content_loss="mse", seed=0)


def test_real_networks_upscale_four_times_and_score_one_patch_per_16x16_block(tmp_path,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)  # outputs go to the model's folder whatever the working directory
    gan = SRGAN(hr_shape=(32, 64, 3), content_loss="mse", seed=0)  # 16 residual blocks
    assert gan.out_dir == os.path.join(REPO, "srgan")
    for shape in [(2, 8, 8, 3), (1, 12, 20, 3)]:  # G takes any LR size
        out = gan.generator.predict(np.zeros(shape, "float32"), verbose=0)
        assert out.shape == (shape[0], shape[1] * 4, shape[2] * 4, 3)
        assert np.all(np.abs(out) <= 1.0)
    assert gan.disc_patch == (2, 4, 1)
    scores = gan.discriminator.predict(np.zeros((2, 32, 64, 3), "float32"), verbose=0)
    assert scores.shape == (2, 2, 4, 1) and np.all((scores >= 0) & (scores <= 1))
    # The combined model takes the LR image only, and trains G's weights alone.
    assert len(gan.combined.inputs) == 1
    assert tuple(gan.combined.inputs[0].shape[1:]) == (8, 16, 3)
    validity, fake_hr = gan.combined.predict(np.zeros((2, 8, 16, 3), "float32"), verbose=0)
    assert validity.shape == (2, 2, 4, 1) and fake_hr.shape == (2, 32, 64, 3)
    assert {id(v) for v in gan.combined.trainable_weights} == \
        {id(v) for v in gan.generator.trainable_weights}
    # The tiny version the other tests train holds the same BatchNorm layers.
    tiny = TinySRGAN(hr_shape=(32, 64, 3), content_loss="mse", out_dir=str(tmp_path), seed=0)
    assert tiny.disc_patch == gan.disc_patch
    assert tiny.discriminator.output.shape == gan.discriminator.output.shape
    for real, small in [(gan.generator, tiny.generator), (gan.discriminator, tiny.discriminator)]:
        assert stateful_layer_kinds(real) == stateful_layer_kinds(small), real.name


def test_combined_step_leaves_discriminator_unchanged_and_d_learns_in_its_own_step(gan):
    hr, lr, *_ = gan.draw_batch(np.random.default_rng(0), 4)
    valid = np.ones((4,) + gan.disc_patch)
    assert any("moving" in v.path for v in gan.discriminator.weights)
    # After a D step, D has moving statistics of its own to protect.
    d_before = assert_frozen_d_contract(gan, (hr, valid), (lr, [valid, hr]))
    gan.discriminator.train_on_batch(hr, np.zeros_like(valid))
    assert len(changed(d_before, gan.discriminator.trainable_weights)) == \
        len(gan.discriminator.trainable_weights)


def test_tiny_run_writes_figures_history_and_a_loadable_generator(gan, tmp_path):
    g_before = snapshot(gan.generator.trainable_weights)
    d_before = snapshot(gan.discriminator.trainable_weights)
    logs = gan.train(epochs=3, batch_size=4, sample_interval=2, quiet=True)
    assert set(logs) >= {"d_loss", "d_acc", "g_loss"}
    # A subclass with its own networks trains them with the inherited train().
    assert len(changed(g_before, gan.generator.trainable_weights)) == len(g_before)
    assert len(changed(d_before, gan.discriminator.trainable_weights)) == len(d_before)
    assert sorted(os.listdir(tmp_path / "images")) == ["srgan_0.png", "srgan_2.png"]
    with open(tmp_path / "history.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r["psnr_srgan"]]
    assert [int(r["step"]) for r in rows] == [0, 2]
    assert all(float(r["psnr_bicubic"]) > 15 and 0 < float(r["ssim_srgan"]) <= 1 for r in rows)
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    lr = gan.dataset.test_pairs()[0][1][None]
    np.testing.assert_allclose(generator.predict(lr, verbose=0),
                               gan.generator.predict(lr, verbose=0), atol=1e-5)
    keras.models.load_model(tmp_path / "saved_model" / "discriminator.keras")


def test_pretraining_steps_train_generator_alone(small_photos, tmp_path):
    gan = TinySRGAN(hr_shape=(32, 32, 3), dataset=small_photos, out_dir=str(tmp_path),
                    content_loss="mse", pretrain_steps=2, seed=0)
    d_before = snapshot(gan.discriminator.weights)
    g_before = snapshot(gan.generator.trainable_weights)
    gan.train(epochs=2, batch_size=4, sample_interval=10, quiet=True)
    assert changed(d_before, gan.discriminator.weights) == []
    assert len(changed(g_before, gan.generator.trainable_weights)) == len(g_before)
    gan.train(epochs=3, batch_size=4, sample_interval=10, quiet=True, resume=True)
    assert changed(d_before, gan.discriminator.trainable_weights)  # the GAN phase has begun


def test_lr_is_the_bicubic_downscale_of_the_hr_crop(small_photos):
    hr, lr = small_photos.sample(np.random.default_rng(0), 6)
    assert hr.shape == (6, 32, 32, 3) and lr.shape == (6, 8, 8, 3)
    for h, l in zip(hr, lr):
        pixels = np.round((h + 1) * 127.5).astype(np.uint8)
        np.testing.assert_allclose(l, (downscale(pixels, 4) - 127.5) / 127.5, atol=1e-6)


def test_training_never_sees_the_held_out_photos_and_flips_only_training_crops():
    # Left half black, right half white: a flip shows as white on the left.
    train = np.zeros((32, 64, 3), np.uint8)
    train[:, 32:] = 255
    test = np.full((32, 64, 3), 128, np.uint8)
    photos = HighResPhotos([train], [test], hr_size=32)
    hr, _ = photos.sample(np.random.default_rng(0), 64)
    assert not np.any(np.isclose(hr, (128 - 127.5) / 127.5))  # no grey: the test photo stays out
    left_white = hr[:, :, 0, 0] > 0
    assert left_white.any() and (~left_white).any()  # both orientations drawn
    (test_hr, test_lr), = photos.test_pairs()
    assert test_hr.shape == (32, 64, 3) and test_lr.shape == (8, 16, 3)
    assert photos.test_pairs()[0][0] is test_hr  # fixed, computed once


def test_offline_default_trains_on_packaged_photos_and_holds_whole_photos_out(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no datasets/img_align_celeba here
    photos = load_photos(hr_size=64)
    message = capsys.readouterr().out
    assert "shipped with scikit-image and matplotlib" in message and "chelsea" in message
    assert len(photos.train) >= 10 and len(photos.test_pairs()) == 3
    held_out = {p.tobytes() for p in photos.test}
    assert not any(p.tobytes() in held_out for p in photos.train)


def test_folder_split_holds_out_the_last_files(tmp_path):
    from PIL import Image
    for i in range(12):
        Image.fromarray(photo(i)).save(tmp_path / f"img_{i:02d}.png")
    photos = load_photos(str(tmp_path), hr_size=32, verbose=False)
    assert len(photos.train) == 11 and [os.path.basename(p) for p in photos.test] == ["img_11.png"]
    hr, lr = photos.sample(np.random.default_rng(0), 3)
    assert hr.shape == (3, 32, 32, 3)


def test_missing_or_empty_folder_is_one_clear_sentence(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_photos(str(tmp_path / "missing"))
    with pytest.raises(UserError, match="holds no .jpg or .png images"):
        load_photos(str(tmp_path))
    result = call_main(srgan_main, "--data", str(tmp_path / "missing"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: Image folder")
    assert "Traceback" not in result.stderr


def test_hr_size_must_be_a_multiple_of_16(tmp_path):
    with pytest.raises(UserError, match="multiple of 16"):
        SRGAN(hr_shape=(40, 40, 3), out_dir=str(tmp_path), content_loss="mse")


def test_evaluate_scores_a_saved_generator_against_bicubic(gan, tmp_path, capsys):
    from common.superresolution import evaluate_saved_generator
    path = str(tmp_path / "generator.keras")
    gan.generator.save(path)
    scores = evaluate_saved_generator(path, gan.dataset, str(tmp_path / "eval" / "figure.png"))
    out = capsys.readouterr().out
    assert "bicubic" in out and "SRGAN" in out
    assert scores["psnr_bicubic"] == pytest.approx(gan.measure()["psnr_bicubic"])
    assert os.path.exists(tmp_path / "eval" / "figure.png")
    with pytest.raises(UserError, match="does not exist"):
        evaluate_saved_generator(str(tmp_path / "none.keras"), gan.dataset, str(tmp_path))


def test_save_imgs_is_sample_images(gan, tmp_path):
    path = gan.save_imgs(7)
    assert path == str(tmp_path / "images" / "srgan_7.png") and os.path.exists(path)
