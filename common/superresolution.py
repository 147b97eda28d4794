"""Super-resolution measured and used: a generator against bicubic upscaling on
held-out photos (PSNR and SSIM with the conventions of common/image_quality.py,
on RGB and on Y, and the colour error), the side-by-side figure SRGAN's runs
save, and whole photos of any size upscaled tile by tile."""
import os

import numpy as np
from keras import ops

from common.errors import UserError
from common.image_quality import compare_upscalers, save_comparison_figure, to_8bit
from common.evaluation import load_generator
from common.photos import bicubic_upscale, photos_to_score, read_photo

# Tiles of the LR image that G upscales at a time (a 4x output tile of
# 512 x 512 with 64 filters is about 64 MB of float32 per activation), and the
# margin of LR pixels each tile borrows from its neighbours: more than G's
# receptive field, so the tiles join without seams.
TILE = 128
TILE_MARGIN = 16


def upscale(generator, lr, scale=4, tile=TILE, margin=TILE_MARGIN):
    """`generator` applied to one LR image of any size, tile by tile.

    Args:
        generator: a Keras model from (N, h, w, C) to (N, h*scale, w*scale, C).
        lr: one image (h, w, C), float in [-1, 1].
        tile: side of the LR tiles; each is run with `margin` extra LR pixels
            on every side that has neighbours, and those are cut off again.

    Returns:
        (h*scale, w*scale, C) float32 in [-1, 1]: the same image as the
        generator gives on the whole input (up to the margin's reach).
    """
    lr = np.asarray(lr, dtype=np.float32)
    h, w = lr.shape[:2]
    out = np.zeros((h * scale, w * scale, lr.shape[-1]), np.float32)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            t0, l0 = max(top - margin, 0), max(left - margin, 0)
            t1, l1 = min(bottom + margin, h), min(right + margin, w)
            patch = ops.convert_to_numpy(generator(lr[None, t0:t1, l0:l1], training=False))[0]
            out[top * scale:bottom * scale, left * scale:right * scale] = patch[
                (top - t0) * scale:(bottom - t0) * scale, (left - l0) * scale:(right - l0) * scale]
    return out


def compare_with_bicubic(generator, pairs, scale=4):
    """Upscale the LR images of `pairs` ((hr, lr) in [-1, 1]) with `generator`
    and with bicubic interpolation; returns `common.image_quality.compare_upscalers`'s
    results (Y and RGB scores, colour error, the upscaled images)."""
    return compare_upscalers(pairs, {"bicubic": lambda lr: bicubic_upscale(lr, scale),
                                     "srgan": lambda lr: upscale(generator, lr, scale)})


def worst_colour_error(errors):
    """The channel error furthest from zero, in levels (signed)."""
    return max(errors, key=abs)


def flat_scores(results):
    """The history's columns: for bicubic and srgan, PSNR and SSIM on Y
    (`psnr_srgan`, `ssim_srgan`), on RGB (`psnr_rgb_srgan`, `ssim_rgb_srgan`)
    and the worst channel's mean colour error in levels (`colour_error_srgan`)."""
    scores = {}
    for name in ("bicubic", "srgan"):
        result = results[name]
        scores.update({f"psnr_{name}": result["psnr"], f"ssim_{name}": result["ssim"],
                       f"psnr_rgb_{name}": result["rgb"]["psnr"],
                       f"ssim_rgb_{name}": result["rgb"]["ssim"],
                       f"colour_error_{name}": worst_colour_error(result["colour"])})
    return scores


def format_scores(scores):
    """One line: bicubic and SRGAN on the held-out photos."""
    def one(name):
        return (f"{scores['psnr_rgb_' + name]:.2f} / {scores['psnr_' + name]:.2f} dB / "
                f"{scores['ssim_' + name]:.4f} / {scores['colour_error_' + name]:+.1f}")
    return (f"Held-out PSNR RGB / PSNR Y / SSIM Y / colour error (levels): "
            f"bicubic {one('bicubic')}, SRGAN {one('srgan')}")


def format_table(results, names):
    """Per photo and on average: PSNR RGB, PSNR Y, SSIM Y and colour error, bicubic
    beside SRGAN, as lines of text."""
    lines = [f"  {'photo':24s} {'PSNR RGB (dB)':>15s} {'PSNR Y (dB)':>15s} {'SSIM Y':>15s} "
             f"{'colour error':>15s}",
             f"  {'':24s} {'bicubic  SRGAN':>15s} {'bicubic  SRGAN':>15s} "
             f"{'bicubic  SRGAN':>15s} {'bicubic  SRGAN':>15s}"]

    def row(label, b_rgb, s_rgb, b_y, s_y, b_ssim, s_ssim, b_col, s_col):
        return (f"  {label[:24]:24s} {b_rgb:7.2f} {s_rgb:6.2f} {b_y:8.2f} {s_y:6.2f} "
                f"{b_ssim:8.4f} {s_ssim:6.4f} {b_col:+8.1f} {s_col:+6.1f}")

    b, s = results["bicubic"], results["srgan"]
    for i, name in enumerate(names):
        lines.append(row(name, b["rgb"]["images"][i]["psnr"], s["rgb"]["images"][i]["psnr"],
                         b["images"][i]["psnr"], s["images"][i]["psnr"],
                         b["images"][i]["ssim"], s["images"][i]["ssim"],
                         worst_colour_error(b["colour_images"][i]),
                         worst_colour_error(s["colour_images"][i])))
    lines.append(row(f"mean of {len(names)}", b["rgb"]["psnr"], s["rgb"]["psnr"], b["psnr"],
                     s["psnr"], b["ssim"], s["ssim"], worst_colour_error(b["colour"]),
                     worst_colour_error(s["colour"])))
    return "\n".join(lines)


def save_comparison(results, pairs, path, caption, window=128, rows=3):
    """The sample figure: for up to `rows` held-out photos, a centre window of
    `window` HR pixels of the LR input, bicubic, SRGAN and the original, with
    the PSNR (RGB and Y) of each whole photo."""
    images, labels = [], []
    for i, (hr, lr) in enumerate(pairs[:rows]):
        scale = hr.shape[0] // lr.shape[0]
        side = min(window, hr.shape[0], hr.shape[1]) // scale * scale
        top = (hr.shape[0] - side) // 2 // scale * scale
        left = (hr.shape[1] - side) // 2 // scale * scale
        hr_window = np.s_[top:top + side, left:left + side]
        lr_window = np.s_[top // scale:(top + side) // scale, left // scale:(left + side) // scale]
        images.append([lr[lr_window], results["bicubic"]["outputs"][i][hr_window],
                       results["srgan"]["outputs"][i][hr_window], hr[hr_window]])
        labels.append([""] + [f"{results[name]['rgb']['images'][i]['psnr']:.2f} / "
                              f"{results[name]['images'][i]['psnr']:.2f} dB"
                              for name in ("bicubic", "srgan")] + ["PSNR RGB / Y"])
    bicubic, srgan = results["bicubic"], results["srgan"]
    title = (f"{caption}: held-out mean PSNR RGB / Y, bicubic {bicubic['rgb']['psnr']:.2f} / "
             f"{bicubic['psnr']:.2f} dB, SRGAN {srgan['rgb']['psnr']:.2f} / {srgan['psnr']:.2f} dB")
    return save_comparison_figure(images, ["low resolution", "bicubic", "SRGAN", "original"],
                                  path, cell_labels=labels, title=title)


def evaluate_saved_generator(path, dataset, figure_path, command="srgan.py --evaluate",
                             generator=None):
    """Score a saved generator against bicubic upscaling on `dataset`'s held-out
    photos (whole, LR made by bicubic downscaling), print the table per photo
    and on average, and save the comparison figure to `figure_path`.
    Returns `flat_scores`. Anything but an SRGAN generator at `path` is a
    UserError naming `command`."""
    if generator is None:
        generator = load_generator(path, expects="upscaler", command=command)
    pairs = dataset.test_pairs()
    print(f"Scoring {path} against bicubic upscaling on {len(pairs)} photo(s) of "
          f"{dataset.description}: each photo is downscaled {dataset.scale}x (bicubic), "
          f"upscaled again and compared with itself (8-bit; Y: BT.601, {dataset.scale}-pixel "
          "border cropped; colour error: the worst RGB channel's mean minus the original's, "
          "in levels).")
    results = compare_with_bicubic(generator, pairs, dataset.scale)
    print(format_table(results, dataset.test_names()))
    figure = save_comparison(results, pairs, figure_path, os.path.basename(path))
    print(f"Figure: {figure}")
    return flat_scores(results)


def upscale_file(generator, source, destination, scale=4, command="srgan.py --upscale"):
    """Upscale the photo in file `source` (any size, any format Pillow reads) with
    `generator` (a model or a .keras path) and write it to `destination` (its
    extension picks the format; PNG is lossless). Returns `destination`."""
    from PIL import Image
    if isinstance(generator, (str, os.PathLike)):
        generator = load_generator(os.fspath(generator), expects="upscaler", command=command)
    pixels = read_photo(source)
    if pixels is None:
        raise UserError(f"{source} could not be read as an image: pass a .jpg or .png photo.")
    lr = (pixels.astype(np.float32) - 127.5) / 127.5
    hr = to_8bit(upscale(generator, lr, scale)).astype(np.uint8)
    folder = os.path.dirname(os.path.abspath(destination))
    os.makedirs(folder, exist_ok=True)
    try:
        Image.fromarray(hr).save(destination)
    except (OSError, ValueError) as error:
        raise UserError(f"Could not write {destination} ({error}): give a writable path "
                        "ending in .png or .jpg.") from None
    return destination


def evaluate_command(generator_path, data=None, out=None):
    """`--evaluate G.keras [--data DIR] [--out DIR]`: score a saved generator on
    the packaged held-out photos, or on every photo in `data`; the figure goes
    beside the generator (`<name>_evaluation.png`) or into `out`."""
    name = os.path.splitext(os.path.basename(generator_path))[0]
    folder = out or os.path.dirname(os.path.abspath(generator_path))
    # The generator first: a wrong file is refused before any photo is read.
    generator = load_generator(generator_path, expects="upscaler", command="srgan.py --evaluate")
    return evaluate_saved_generator(generator_path, photos_to_score(data),
                                    os.path.join(folder, f"{name}_evaluation.png"),
                                    generator=generator)


def upscale_command(photo, generator_path, out=None):
    """`--upscale PHOTO --generator G.keras [--out FILE|DIR]`: write the photo
    4x larger, by default as PHOTO_x4.png beside it."""
    if not generator_path:
        raise UserError("--upscale needs the generator to upscale with: add --generator "
                        "<out>/saved_model/generator.keras from a training run.")
    if not os.path.isfile(photo):
        raise UserError(f"Photo {photo} does not exist: pass the path of a .jpg or .png.")
    stem = os.path.splitext(os.path.basename(photo))[0] + "_x4.png"
    destination = out or os.path.join(os.path.dirname(os.path.abspath(photo)), stem)
    if os.path.isdir(destination):
        destination = os.path.join(destination, stem)
    print(f"Upscaled {photo} 4x with {generator_path}: "
          f"{upscale_file(generator_path, photo, destination)}")
    return destination
