"""SRGAN on photos it never saw: G starts as bicubic (the global skip), scores
come on RGB and Y with the colour error, --evaluate scores any folder of photos
and puts its figure beside the generator, whole photos of any size are
upscaled tile by tile, the combined model and its schedule and content loss
save and load, and SRGAN's own flags are checked and described."""
import csv
import os

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import call_main
from common import photos as photo_data
from common.image_quality import colour_error, compare_upscalers
from common.photos import HighResPhotos, bicubic_upscale
from common.superresolution import upscale
from srgan.srgan import SRGAN, PretrainThenGAN
from srgan.srgan import main as srgan_main
from tiny import TinySRGAN


def photo(seed, size=(80, 96)):
    """A smooth random colour photo, uint8."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[0] // 8 + 1, size[1] // 8 + 1, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize((size[1], size[0]), Image.BICUBIC))


@pytest.fixture
def small_photos():
    return HighResPhotos([photo(i) for i in range(4)], [photo(10, (48, 64)), photo(11, (40, 40))],
                         hr_size=32)


class SkipSRGAN(SRGAN):
    """SRGAN's own generator (with the bicubic skip these tests are about) and
    the tiny patch discriminator of tests/tiny.py (SRGAN's real D, up to 512
    filters, would cost seconds a test and prove nothing more here)."""

    build_discriminator = TinySRGAN.build_discriminator


def tiny_srgan(dataset, out_dir, **options):
    return SkipSRGAN(hr_shape=(32, 32, 3), n_residual_blocks=1, dataset=dataset,
                     out_dir=str(out_dir), content_loss="mse", bicubic_skip=True, seed=0,
                     **options)


@pytest.fixture(scope="module")
def saved_generator(tmp_path_factory):
    """A generator.keras of a tiny SRGAN with the skip, after one training step
    (trained once for all the tests of this file that only read it)."""
    folder = tmp_path_factory.mktemp("srgan")
    dataset = HighResPhotos([photo(i) for i in range(4)], [photo(10, (48, 64))], hr_size=32)
    gan = tiny_srgan(dataset, folder / "run")
    gan.train(epochs=1, batch_size=4, sample_interval=10, quiet=True)
    return gan, str(folder / "run" / "saved_model" / "generator.keras")


def test_untrained_generator_with_bicubic_skip_is_bicubic(small_photos, tmp_path):
    gan = tiny_srgan(small_photos, tmp_path)
    (hr, lr), _ = small_photos.test_pairs()
    out = gan.generator.predict(lr[None], verbose=0)[0]
    # G's own bicubic layer and the 8-bit (Pillow) bicubic of the baseline
    # differ by rounding only: under one level on average.
    assert np.mean(np.abs(out - bicubic_upscale(lr))) * 127.5 < 1.0
    scores = gan.measure()
    assert scores["psnr_srgan"] == pytest.approx(scores["psnr_bicubic"], abs=0.1)
    assert scores["psnr_rgb_srgan"] == pytest.approx(scores["psnr_rgb_bicubic"], abs=0.1)
    assert abs(scores["colour_error_srgan"]) < 0.5


def test_keras_gan_generator_without_the_skip_paints_the_whole_image(small_photos, tmp_path):
    gan = SRGAN(hr_shape=(32, 32, 3), n_residual_blocks=1, dataset=small_photos,
                out_dir=str(tmp_path), content_loss="mse", seed=0)
    assert not gan.bicubic_skip
    assert gan.generator.layers[-1].get_config()["activation"] == "tanh"
    from common.bicubic import BicubicUpSampling2D
    assert not any(isinstance(layer, BicubicUpSampling2D) for layer in gan.generator.layers)


def test_scores_come_on_y_and_rgb_with_the_colour_error_per_channel(small_photos):
    pairs = small_photos.test_pairs()

    def redder(lr):  # bicubic with the red channel 10 levels up
        return bicubic_upscale(lr) + np.array([10 / 127.5, 0, 0], np.float32)

    results = compare_upscalers(pairs, {"bicubic": bicubic_upscale, "redder": redder})
    red, green, blue = results["redder"]["colour"]
    assert 9.0 < red <= 10.0 and abs(green) < 0.5 and abs(blue) < 0.5
    assert results["redder"]["rgb"]["psnr"] < results["bicubic"]["rgb"]["psnr"]
    assert len(results["redder"]["rgb"]["images"]) == len(pairs) == 2
    hr, _ = pairs[0]
    assert colour_error(hr, hr) == [0.0, 0.0, 0.0]


def test_eval_interval_scores_srgan_on_rgb_y_and_colour_every_n_steps(small_photos, tmp_path):
    gan = tiny_srgan(small_photos, tmp_path, pretrain_steps=1)
    gan.train(epochs=3, batch_size=4, sample_interval=10, eval_interval=1, quiet=True)
    with open(tmp_path / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    scored = [r for r in rows if r.get("psnr_srgan")]
    assert [int(r["step"]) for r in scored] == [0, 1, 2]  # every step, SRResNet and GAN
    assert all(r["psnr_rgb_srgan"] and r["ssim_rgb_bicubic"] and r["colour_error_srgan"]
               for r in scored)
    assert not any("mnist" in column or "fid" in column for column in rows[0])


def test_eval_interval_on_the_command_line_is_srgans_own_not_mnists(tmp_path, monkeypatch):
    # What the command line hands to train() (training itself is the test above).
    import srgan.srgan as srgan_module
    options = {}
    monkeypatch.setattr(srgan_module.SRGAN, "train",
                        lambda self, **kwargs: options.update(kwargs))
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(photo(i, (48, 48))).save(folder / f"p{i}.png")
    result = call_main(srgan_main, "--data", folder, "--hr-size", 16, "--residual-blocks", 1,
                       "--eval-interval", 7, "--content-loss", "mse", "--quiet",
                       "--out", tmp_path / "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert options["eval_interval"] == 7
    assert "evaluate" not in options  # so SRGAN.train scores with its own measure()


def test_evaluate_scores_a_folder_of_photos_of_any_size_and_writes_the_figure_beside_the_generator(
        saved_generator, tmp_path):
    _, generator_path = saved_generator
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, size in [("wide.png", (37, 150)), ("tall.jpg", (130, 61)), ("big.png", (200, 300)),
                       ("tiny.png", (12, 12))]:
        Image.fromarray(photo(len(name), size)).save(folder / name)
    result = call_main(srgan_main, "--evaluate", generator_path, "--data", folder, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("wide.png", "tall.jpg", "big.png", "mean of 3", "PSNR RGB", "PSNR Y", "colour"):
        assert name in result.stdout
    assert "tiny.png" not in result.stdout  # too small to score
    assert "training on" not in result.stdout.lower() and "Photos:" not in result.stdout
    figure = os.path.join(os.path.dirname(generator_path), "generator_evaluation.png")
    assert os.path.exists(figure) and f"Figure: {figure}" in result.stdout
    result = call_main(srgan_main, "--evaluate", generator_path, "--data", folder,
                       "--out", tmp_path / "elsewhere", cwd=tmp_path)
    assert (tmp_path / "elsewhere" / "generator_evaluation.png").exists()


def test_evaluate_without_data_scores_the_packaged_held_out_photos():
    dataset = photo_data.photos_to_score()
    assert set(dataset.test_names()) == set(photo_data.PACKAGED_TEST)


def test_tiled_upscale_equals_the_generator_on_the_whole_image(saved_generator):
    gan, _ = saved_generator
    lr = (photo(5, (20, 28)).astype(np.float32) - 127.5) / 127.5
    whole = gan.generator.predict(lr[None], verbose=0)[0]
    tiled = upscale(gan.generator, lr, tile=8, margin=16)
    assert tiled.shape == (80, 112, 3)
    np.testing.assert_allclose(tiled, whole, atol=1e-4)


def test_upscale_writes_the_photo_four_times_larger(saved_generator, tmp_path):
    _, generator_path = saved_generator
    Image.fromarray(photo(3, (27, 41))).save(tmp_path / "holiday.jpg")
    result = call_main(srgan_main, "--upscale", tmp_path / "holiday.jpg",
                       "--generator", generator_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "holiday_x4.png") as image:
        assert image.size == (164, 108)
    result = call_main(srgan_main, "--upscale", tmp_path / "holiday.jpg", cwd=tmp_path)
    assert result.returncode == 2 and "--generator" in result.stderr
    result = call_main(srgan_main, "--upscale", tmp_path / "none.jpg", "--generator",
                       generator_path, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: Photo")


def test_schedule_and_vgg_content_loss_survive_serialization(tmp_path):
    schedule = PretrainThenGAN(100, 0.001, 0.0002)
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(again, PretrainThenGAN)
    for step in (0, 50, 99, 100, 500):
        assert float(again(step)) == pytest.approx(float(schedule(step)))

    from common import vgg
    weights = str(tmp_path / "vgg19_notop.weights.h5")
    keras.applications.VGG19(include_top=False, weights=None,
                             input_shape=(None, None, 3)).save_weights(weights)
    loss = vgg.VGGContentLoss(vgg.build_vgg19_features("block2_conv2", weights),
                              layer="block2_conv2", weights=weights)
    loaded = keras.losses.deserialize(keras.losses.serialize(loss))
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for _ in range(2))
    assert float(loaded(a, b)) == pytest.approx(float(loss(a, b)), rel=1e-5)


def test_combined_model_saves_and_loads_with_its_schedule(small_photos, tmp_path):
    gan = tiny_srgan(small_photos, tmp_path, pretrain_steps=5)
    path = str(tmp_path / "combined.keras")
    gan.combined.save(path)
    loaded = keras.models.load_model(path)
    rows, cols = gan.lr_shape[:2]  # the saved model keeps combined's input shape
    lr = small_photos.test_pairs()[0][1][None, :rows, :cols]
    for a, b in zip(loaded.predict(lr, verbose=0), gan.combined.predict(lr, verbose=0)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert isinstance(loaded.optimizer.learning_rate, PretrainThenGAN) or \
        isinstance(getattr(loaded.optimizer, "_learning_rate", None), PretrainThenGAN)


@pytest.mark.parametrize("flag, value, message", [
    ("--pretrain-steps", "-1", "expected a whole number >= 0, got -1"),
    ("--pretrain-steps", "many", "expected a whole number >= 0, got 'many'"),
    ("--pretrain-lr", "0", "expected a positive number, got 0.0"),
    ("--pretrain-lr", "nan", "expected a positive number, got nan"),
])
def test_pretrain_flags_are_checked_in_one_sentence(flag, value, message, tmp_path):
    result = call_main(srgan_main, flag, value, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(f"argument {flag}: {message}")


def test_help_describes_srgans_own_flags(tmp_path):
    result = call_main(srgan_main, "--help", cwd=tmp_path)
    text = " ".join(result.stdout.split())
    assert result.returncode == 0
    assert "--latent-dim" not in text
    assert "--data DATA a folder of photos" in text
    assert "the --pretrain-steps included" in text
    assert "--no-bicubic-skip" in text and "--upscale PHOTO" in text


def test_packaged_held_out_photos_are_several_and_never_trained_on():
    if os.path.isdir(photo_data.DEFAULT_FOLDER):
        pytest.skip("a CelebA folder is present: the packaged photos are not the default")
    photos = photo_data.load_photos(hr_size=64, verbose=False)
    assert len(photos.test_pairs()) >= 3
    held_out = {p.tobytes() for p in photos.test}
    assert not any(p.tobytes() in held_out for p in photos.train)


def test_rotation_turns_training_crops(tmp_path):
    # Top half white: after a random turn the white half is on any of the four sides.
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[:16] = 255
    photos = HighResPhotos([pixels], [pixels], hr_size=32, rotate=True)
    hr, _ = photos.sample(np.random.default_rng(0), 32)
    halves = np.stack([hr[:, :16].mean(axis=(1, 2, 3)), hr[:, 16:].mean(axis=(1, 2, 3)),
                       hr[:, :, :16].mean(axis=(1, 2, 3)), hr[:, :, 16:].mean(axis=(1, 2, 3))])
    assert set(np.argmax(halves, axis=0)) == {0, 1, 2, 3}  # top, bottom, left, right


def test_srresnet_pretrains_on_pixels_and_the_gan_steps_use_vgg_features(small_photos, tmp_path):
    from common import vgg
    weights = str(tmp_path / "vgg19_notop.weights.h5")
    keras.applications.VGG19(include_top=False, weights=None,
                             input_shape=(None, None, 3)).save_weights(weights)
    gan = SRGAN(hr_shape=(32, 32, 3), n_residual_blocks=1, dataset=small_photos,
                out_dir=str(tmp_path), content_loss="vgg", vgg_weights=weights,
                vgg_layer="block2_conv2", bicubic_skip=True, pretrain_steps=1, seed=0)
    assert gan.srresnet.loss == "mse"  # the paper's SRGAN starts from the MSE-trained SRResNet
    assert isinstance(gan.combined.loss[1], vgg.VGGContentLoss)  # a GAN step: tests/test_vgg.py
