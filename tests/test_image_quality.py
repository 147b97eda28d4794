"""PSNR and SSIM give the numbers skimage.metrics gives, with the stated conventions
(8-bit values, BT.601 Y channel or RGB, border crop, data range 255)."""
import numpy as np
import pytest
from skimage import color, data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from common.image_quality import compare_upscalers, image_scores, rgb_to_y, set_scores, to_8bit
from common.photos import bicubic_upscale, downscale


def unit(pixels):
    return (np.asarray(pixels, np.float32) - 127.5) / 127.5


@pytest.fixture(scope="module")
def photo_and_bicubic():
    """A real photo (128x128 crop of the astronaut) and its x4 bicubic round trip."""
    hr = data.astronaut()[64:192, 192:320]
    lr = downscale(hr, 4)
    return unit(hr), bicubic_upscale(unit(lr), 4)


def skimage_y(image):
    """MATLAB's Y (skimage's rgb2ycbcr) of an image in [-1, 1], as 8-bit values."""
    return color.rgb2ycbcr(to_8bit(image).astype(np.uint8))[..., 0]


def test_y_channel_is_bt601_luma_as_skimage_rgb2ycbcr(photo_and_bicubic):
    hr, _ = photo_and_bicubic
    np.testing.assert_allclose(rgb_to_y(to_8bit(hr)), skimage_y(hr), atol=1e-6)


def test_psnr_and_ssim_on_y_agree_with_skimage_metrics(photo_and_bicubic):
    hr, up = photo_and_bicubic
    b = 4
    ref, out = skimage_y(hr)[b:-b, b:-b], skimage_y(up)[b:-b, b:-b]
    scores = image_scores(hr, up, border=b, channel="y")
    assert scores["psnr"] == pytest.approx(peak_signal_noise_ratio(ref, out, data_range=255), abs=1e-6)
    assert scores["ssim"] == pytest.approx(structural_similarity(
        ref, out, data_range=255, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False), abs=1e-6)
    assert 20 < scores["psnr"] < 40 and 0.5 < scores["ssim"] < 1.0  # a real, blurred photo


def test_psnr_and_ssim_on_rgb_agree_with_skimage_metrics(photo_and_bicubic):
    hr, up = photo_and_bicubic
    ref, out = to_8bit(hr)[4:-4, 4:-4], to_8bit(up)[4:-4, 4:-4]
    scores = image_scores(hr, up, border=4, channel="rgb")
    assert scores["psnr"] == pytest.approx(peak_signal_noise_ratio(ref, out, data_range=255), abs=1e-6)
    assert scores["ssim"] == pytest.approx(structural_similarity(
        ref, out, data_range=255, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, channel_axis=-1), abs=1e-6)


def test_known_values_identical_images_and_one_grey_level_off():
    image = unit(data.coffee()[:64, :64])
    same = image_scores(image, image)
    assert same["psnr"] == float("inf") and same["ssim"] == pytest.approx(1.0)
    # Every 8-bit value one level brighter: MSE 1, PSNR = 20 log10(255) = 48.13 dB.
    pixels = np.clip(data.coffee()[:64, :64].astype(np.int32), 0, 254)
    brighter = image_scores(unit(pixels), unit(pixels + 1), channel="rgb")
    assert brighter["psnr"] == pytest.approx(20 * np.log10(255.0), abs=1e-9)


def test_border_pixels_are_left_out():
    image = unit(data.coffee()[:64, :64])
    spoiled = image.copy()
    spoiled[:4] = -1.0
    spoiled[:, -4:] = 1.0
    assert image_scores(image, spoiled, border=4)["psnr"] == float("inf")
    assert image_scores(image, spoiled, border=0)["psnr"] < 20


def test_set_score_is_the_mean_of_per_image_scores(photo_and_bicubic):
    hr, up = photo_and_bicubic
    small_hr, small_up = hr[:64, :96], up[:64, :96]  # pairs may differ in size
    scores = set_scores([hr, small_hr], [up, small_up])
    singles = [image_scores(hr, up), image_scores(small_hr, small_up)]
    assert scores["psnr"] == pytest.approx(np.mean([s["psnr"] for s in singles]))
    assert scores["ssim"] == pytest.approx(np.mean([s["ssim"] for s in singles]))


def test_compare_upscalers_ranks_bicubic_above_nearest_neighbour(photo_and_bicubic):
    hr, _ = photo_and_bicubic
    lr = unit(downscale(to_8bit(hr).astype(np.uint8), 4))
    results = compare_upscalers([(hr, lr)], {
        "bicubic": lambda x: bicubic_upscale(x, 4),
        "nearest": lambda x: np.repeat(np.repeat(x, 4, axis=0), 4, axis=1)})
    assert results["bicubic"]["psnr"] > results["nearest"]["psnr"]
    assert results["bicubic"]["outputs"][0].shape == hr.shape
