"""PSNR and SSIM, the two numbers super-resolution papers report, and the
figure that puts them beside the images.

Conventions (those of the super-resolution literature since SRCNN, and of the
tables of the SRGAN paper, Ledig et al., 2017):

  - images are compared as 8-bit pictures: values in [-1, 1] are mapped to
    0..255 and rounded, as they would be when saved;
  - on the luminance channel Y of ITU-R BT.601 YCbCr, as MATLAB's `rgb2ycbcr`
    computes it (Y = 16 + 65.481 R + 128.553 G + 24.966 B, R, G, B in [0, 1],
    so Y lies in [16, 235]), because the eye sees detail in brightness;
    `channel="rgb"` compares the three colour channels instead;
  - a border of `border` pixels (the scale factor, 4) is cropped from every
    edge, where an upscaler has no neighbours to work from;
  - data range 255: PSNR = 10 log10(255^2 / MSE), in dB, higher is better;
  - SSIM as Wang et al. (2004): Gaussian window of sigma 1.5 (11 x 11), K1 =
    0.01, K2 = 0.03, population covariance, the SSIM map averaged over the
    pixels at least 5 from the edge. From -1 to 1, 1 for identical images. On
    RGB it is the mean over the channels.

PSNR, SSIM and the Y channel are scikit-image's (`skimage.metrics`,
`skimage.color.rgb2ycbcr`), the implementations the field checks against;
this module only fixes their arguments to the conventions above.

A set's figure is the mean of the per-image values, as in the papers' tables.
"""
import numpy as np

from common.files import replaced_atomically

CHANNELS = ("y", "rgb")


def to_8bit(images):
    """Images in [-1, 1] to float64 values on the 0..255 grid (rounded, clipped)."""
    pixels = (np.asarray(images, dtype=np.float64) + 1.0) * 127.5
    return np.clip(np.round(pixels), 0.0, 255.0)


def rgb_to_y(pixels):
    """BT.601 luminance (MATLAB's rgb2ycbcr Y, in [16, 235]) of RGB values in 0..255.

    Args:
        pixels: array (..., 3).
    Returns:
        float64 array (...).
    """
    from skimage.color import rgb2ycbcr
    return rgb2ycbcr(np.asarray(pixels, dtype=np.float64) / 255.0)[..., 0]


def _prepare(image, channel, border):
    """One image in [-1, 1] (H, W, C) to the float64 plane(s) that are compared."""
    pixels = to_8bit(image)
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    if channel == "y" and pixels.shape[-1] == 3:
        pixels = rgb_to_y(pixels)[..., None]
    if border:
        pixels = pixels[border:-border, border:-border]
    return pixels


def psnr(reference, test, data_range=255.0):
    """Peak signal-to-noise ratio in dB of `test` against `reference` (same shape,
    values on a scale of `data_range`); infinite for identical images."""
    from skimage.metrics import peak_signal_noise_ratio
    reference = np.asarray(reference, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if np.array_equal(reference, test):  # skimage would divide by zero, with a warning
        return float("inf")
    return float(peak_signal_noise_ratio(reference, test, data_range=data_range))


def ssim(reference, test, data_range=255.0, sigma=1.5, k1=0.01, k2=0.03):
    """Structural similarity (Wang et al., 2004) of two 2-D images, Gaussian-weighted."""
    from skimage.metrics import structural_similarity
    return float(structural_similarity(
        np.asarray(reference, dtype=np.float64), np.asarray(test, dtype=np.float64),
        data_range=data_range, gaussian_weights=True, sigma=sigma, K1=k1, K2=k2,
        use_sample_covariance=False))


def image_scores(reference, test, border=4, channel="y"):
    """PSNR and SSIM of one image `test` against `reference`, both (H, W, C) in [-1, 1],
    with the conventions of this module. Returns {"psnr": dB, "ssim": value}."""
    ref = _prepare(reference, channel, border)
    out = _prepare(test, channel, border)
    if ref.shape != out.shape:
        raise ValueError(f"images to compare differ in shape: {ref.shape} and {out.shape}")
    return {"psnr": psnr(ref, out),
            "ssim": float(np.mean([ssim(ref[..., c], out[..., c]) for c in range(ref.shape[-1])]))}


def set_scores(references, tests, border=4, channel="y"):
    """Mean PSNR and SSIM over pairs of images (lists or batches, sizes may differ
    from pair to pair). Returns {"psnr", "ssim"} and the per-image list "images"."""
    per_image = [image_scores(r, t, border, channel) for r, t in zip(references, tests)]
    return {"psnr": float(np.mean([s["psnr"] for s in per_image])),
            "ssim": float(np.mean([s["ssim"] for s in per_image])),
            "images": per_image}


def colour_error(reference, test):
    """How far `test`'s colours are off: the mean of each RGB channel of `test`
    minus that of `reference` (both (H, W, 3) in [-1, 1]), in 8-bit levels.
    A tint shows as one channel well above or below zero. Returns 3 floats."""
    diff = to_8bit(test) - to_8bit(reference)
    return [float(v) for v in diff.reshape(-1, diff.shape[-1]).mean(axis=0)]


def compare_upscalers(pairs, upscalers, border=4, channel="y"):
    """Score several ways of upscaling on the same held-out images.

    Args:
        pairs: list of (hr, lr) images in [-1, 1], (H, W, C) and (h, w, C).
        upscalers: {name: function lr -> upscaled image (H, W, C) in [-1, 1]},
            e.g. bicubic interpolation and a generator.
        channel: the channel of the top-level "psnr" and "ssim".

    Returns:
        {name: {"psnr": mean, "ssim": mean, "images": per-image scores (on
        `channel`), "rgb": {"psnr", "ssim", "images"} on the RGB channels
        (colour images), "colour": per-channel colour error in levels
        averaged over the images, "colour_images": per image, "outputs": the
        upscaled images}}.
    """
    hr_images = [hr for hr, _ in pairs]
    results = {}
    for name, upscale in upscalers.items():
        outputs = [np.asarray(upscale(lr), dtype=np.float32) for _, lr in pairs]
        results[name] = {**set_scores(hr_images, outputs, border, channel), "outputs": outputs}
        if hr_images and np.shape(hr_images[0])[-1] == 3:
            errors = [colour_error(hr, out) for hr, out in zip(hr_images, outputs)]
            results[name].update(rgb=set_scores(hr_images, outputs, border, "rgb"),
                                 colour=[float(v) for v in np.mean(errors, axis=0)],
                                 colour_images=errors)
    return results


def save_comparison_figure(rows, column_titles, path, cell_labels=None, title=None):
    """A figure of image rows side by side (e.g. low resolution, bicubic, SRGAN,
    original), with a caption under each image (e.g. its PSNR).

    Args:
        rows: list of lists of images (H, W, C) in [-1, 1]; all of one size.
        column_titles: one title per column.
        path: the PNG to write (through a temporary file).
        cell_labels: optional list of lists of strings, one per image.
        title: optional figure title.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n_rows, n_cols = len(rows), len(column_titles)
    height, width = np.asarray(rows[0][0]).shape[:2]
    cell = max(1.6, min(3.2, width / 64.0))  # inches per image
    fig, axes = plt.subplots(n_rows, n_cols, squeeze=False,
                             figsize=(n_cols * cell, n_rows * cell * height / width + 0.5 * n_rows + 0.6))
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            ax = axes[r][c]
            pixels = to_8bit(image).astype(np.uint8)
            ax.imshow(pixels[..., 0] if pixels.shape[-1] == 1 else pixels,
                      cmap="gray" if pixels.shape[-1] == 1 else None,
                      vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(column_titles[c], fontsize=9)
            if cell_labels is not None and cell_labels[r][c]:
                ax.set_xlabel(cell_labels[r][c], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    try:
        with replaced_atomically(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
    finally:
        plt.close(fig)
    return path
