"""Score a saved SRGAN generator against bicubic upscaling on colour photos the
project never trains or tunes on, the way issue 15 checks it.

Photos (real colour photos that ship inside installed packages, none of them
in SRGAN's training set or in the two photos its recipe was tuned on, chelsea
and coffee): matplotlib's portrait of Grace Hopper and, when scikit-learn is
installed, its two sample photos (china.jpg, flower.jpg). scikit-learn is only
needed for this script, not by the zoo. Pass --photos to use your own files.

From each photo, `--crops` random 128x128 HR crops; the LR input is each crop
downscaled 4x by antialiased bicubic filtering, as
`tf.image.resize(..., "bicubic", antialias=True)` does, rounded to 8 bits.
Reported per photo and on average: PSNR on RGB, PSNR and SSIM on Y (BT.601,
4-pixel border cropped; common/image_quality.py) and the colour error: each
RGB channel's mean minus the original's, in 8-bit levels, averaged over the
crops; "worst" is the channel furthest from zero.

    python benchmarks/srgan_heldout.py srgan/saved_model/generator.keras
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np


def report_photos():
    """{name: uint8 (H, W, 3)}: the outside photos this machine has."""
    from PIL import Image
    paths = {}
    try:
        from matplotlib import cbook
        paths["grace_hopper"] = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    except Exception:
        pass
    try:
        import sklearn.datasets
        folder = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
        for name in ("china", "flower"):
            paths[name] = os.path.join(folder, name + ".jpg")
    except ImportError:
        pass
    photos = {}
    for name, path in paths.items():
        with Image.open(path) as image:
            photos[name] = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return photos


def tf_downscale(hr_pixels, scale=4):
    """uint8 HR crops (N, H, W, 3) to LR by tf.image.resize bicubic with antialias,
    rounded to 8 bits."""
    import tensorflow as tf
    h, w = hr_pixels.shape[1:3]
    lr = tf.image.resize(hr_pixels.astype("float32"), (h // scale, w // scale), "bicubic",
                         antialias=True).numpy()
    return np.clip(np.round(lr), 0, 255).astype(np.uint8)


def crop_pairs(pixels, n_crops, size=128, seed=0, scale=4):
    """`n_crops` random (hr, lr) pairs from one photo, float32 in [-1, 1]."""
    rng = np.random.default_rng(seed)
    h, w = pixels.shape[:2]
    tops = rng.integers(0, h - size + 1, n_crops)
    lefts = rng.integers(0, w - size + 1, n_crops)
    hr = np.stack([pixels[t:t + size, l:l + size] for t, l in zip(tops, lefts)])
    lr = tf_downscale(hr, scale)
    unit = lambda p: (p.astype(np.float32) - 127.5) / 127.5  # noqa: E731
    return list(zip(unit(hr), unit(lr)))


def score(generator, photos, n_crops=16, size=128, seed=0):
    """{photo: {upscaler: scores}} and the average over photos, printed as a table."""
    from keras import ops
    from common.image_quality import compare_upscalers
    from common.photos import bicubic_upscale

    def srgan(lr):
        return ops.convert_to_numpy(generator(lr[None], training=False))[0]

    rows = {}
    for i, (name, pixels) in enumerate(photos.items()):
        pairs = crop_pairs(pixels, n_crops, size, seed + i)
        results = compare_upscalers(pairs, {"bicubic": bicubic_upscale, "srgan": srgan})
        rows[name] = {up: {"psnr_rgb": r["rgb"]["psnr"], "psnr_y": r["psnr"], "ssim_y": r["ssim"],
                           "colour": r["colour"]} for up, r in results.items()}
    mean = {up: {key: (np.mean([rows[p][up][key] for p in rows], axis=0).tolist())
                 for key in ("psnr_rgb", "psnr_y", "ssim_y", "colour")}
            for up in ("bicubic", "srgan")}
    rows["mean"] = mean
    return rows


def format_table(rows):
    lines = ["| photo | upscaler | PSNR RGB (dB) | PSNR Y (dB) | SSIM Y | colour error R, G, B "
             "(levels) | worst |", "|---|---|---|---|---|---|---|"]
    for name, ups in rows.items():
        for up, s in ups.items():
            worst = max(s["colour"], key=abs)
            lines.append(f"| {name} | {up} | {s['psnr_rgb']:.2f} | {s['psnr_y']:.2f} | "
                         f"{s['ssim_y']:.4f} | {', '.join(f'{v:+.1f}' for v in s['colour'])} | "
                         f"{worst:+.1f} |")
    return "\n".join(lines)


def main():
    from common.cli import run_cli
    run_cli(_main)()  # a wrong file or folder is one sentence and exit status 2


def _main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("generator", help="a saved generator (.keras)")
    parser.add_argument("--crops", type=int, default=16, help="random crops per photo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--photos", nargs="*", default=None, help="image files instead")
    args = parser.parse_args()
    from common.cli import tensorflow_chatter_hidden
    with tensorflow_chatter_hidden():  # as quiet as the training scripts
        import tensorflow  # noqa: F401  (tf_downscale's resizing)
        from common.evaluation import load_generator
    if args.photos:
        from common.data import UnreadableImage, open_image
        from common.errors import UserError
        photos = {}
        for path in args.photos:
            try:  # read as a viewer shows it (EXIF rotation, alpha, 16 bits, ...)
                photos[os.path.basename(path)] = np.asarray(open_image(path, channels=3),
                                                            np.uint8)
            except (UnreadableImage, OSError) as error:
                raise UserError(f"--photos: {path} cannot be read as an image ({error}).") from None
    else:
        photos = report_photos()
    generator = load_generator(args.generator, expects="upscaler",
                               command="benchmarks/srgan_heldout.py")
    print(format_table(score(generator, photos, args.crops, seed=args.seed)))


if __name__ == "__main__":
    main()
