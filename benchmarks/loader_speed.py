"""How fast does the image-folder loader feed a step? Today's loader beside the new one, same run.

No GPU is lent to this project, so the benchmark shows by measurement and by
simulation what a GPU user would see (docs/performance.md):

  decode     one thread decoding 178x218 JPEGs (CelebA's size) to 64x64:
             today's (every file decoded whole) and the new (JPEGs decoded
             at reduced scale when shrunk, Pillow's `draft`), images/s per
             CPU core, and how far apart their pixels are;
  loader     `ImageFolder.sample` batch after batch, images/s over the first
             pass (len(folder) images drawn, most decoded for the first time),
             the next ones, and settled (every file offered to the cache
             first, as in a long run): today's (whole decode, a 256 MB cache of
             float32: 5,461 images of 64x64x3) and the new (scaled decode, the
             same 256 MB of uint8: 21,845 images), and the array file of
             `python -m common.prepare` (memory-mapped);
  training   a simulated fast accelerator: DCGAN with tiny networks (a few
             ms a step on a CPU, as a GPU runs the real one) trained with
             `train()` on the folder (the new loader, the next batch drawn
             while a step runs) and on the same images already in memory,
             alternated in rounds; the folder run must reach at least 0.7x
             the in-memory speed. `--today` adds today's loader (whole
             decode, float32-sized cache, each batch drawn between steps).

The folder is `--folder` (e.g. CelebA's img_align_celeba), or crops of real
photos written once to `--crops` (default: 8,000 crops of 178x218 from the
photos scikit-image ships, in the zoo's cache folder).

    python benchmarks/loader_speed.py                       # all three, 8,000 crops
    python benchmarks/loader_speed.py --folder datasets/img_align_celeba --only loader
    python benchmarks/loader_speed.py --only training --steps 3000 --today
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

import numpy as np

CROP_SIZE = (178, 218)  # CelebA's aligned faces: width x height
IMG_SIZE = 64
BATCH = 64


# ---------------------------------------------------------------------------
# The folder: crops of real photos, CelebA's size
# ---------------------------------------------------------------------------

def write_photo_crops(folder, n=8000, size=CROP_SIZE, seed=0, quality=90):
    """`n` JPEG crops of `size` (width, height) from the colour photos that
    scikit-image (and matplotlib) ship, at random places and scales, half of
    them flipped, into `folder` (kept when it already holds them). Returns
    the sorted paths."""
    from PIL import Image

    from common.photos import PACKAGED_TEST, PACKAGED_TRAIN, packaged_photos
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"{k:06d}.jpg") for k in range(n)]
    if all(os.path.isfile(p) for p in paths):
        return paths
    photos = [p for p in packaged_photos(PACKAGED_TRAIN + PACKAGED_TEST).values()
              if p.ndim == 3 and p.shape[2] == 3 and not np.array_equal(p[..., 0], p[..., 1])]
    rng = np.random.default_rng(seed)
    width, height = size
    for k, path in enumerate(paths):
        photo = photos[k % len(photos)]
        rows, cols = photo.shape[:2]
        # a window of the crop's shape, between 40% and all of what the photo allows
        fit = min(rows / height, cols / width)
        scale = fit * rng.uniform(0.4, 1.0)
        h, w = int(height * scale), int(width * scale)
        top, left = rng.integers(0, rows - h + 1), rng.integers(0, cols - w + 1)
        crop = Image.fromarray(photo[top:top + h, left:left + w]).resize(size, Image.BICUBIC)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        crop.save(path, quality=quality)
    return paths


def default_crops():
    from common.files import cache_folder
    return os.path.join(cache_folder(), "loader_speed_crops")


# ---------------------------------------------------------------------------
# Today's loader and the new one
# ---------------------------------------------------------------------------

def new_loader(folder, img_size=IMG_SIZE):
    from common.data import ImageFolder
    return ImageFolder(folder, img_size, 3, verbose=False)


def todays_loader(folder, img_size=IMG_SIZE):
    """The loader as it was: every file decoded whole, and a cache of 256 MB of
    float32, which holds a quarter of the images 256 MB of uint8 holds."""
    from common.data import IMAGE_CACHE_MB, ImageFolder
    return ImageFolder(folder, img_size, 3, cache_mb=IMAGE_CACHE_MB / 4, verbose=False,
                       draft=False)


def decode_rates(paths, img_size=IMG_SIZE, limit=400):
    """Images/s of one thread decoding `limit` files, whole and scaled, and
    the mean and largest difference of their pixels (0..255)."""
    from common.data import _read_image
    paths = paths[:limit]
    rates, pixels = {}, {}
    for draft in (False, True, False, True):  # twice each, alternated; the faster kept
        tick = time.perf_counter()
        got = [_read_image(p, img_size, 3, 1.0, draft) for p in paths]
        rate = len(paths) / (time.perf_counter() - tick)
        rates[draft] = max(rate, rates.get(draft, 0.0))
        pixels[draft] = np.stack(got).astype(np.int16)
    difference = np.abs(pixels[True] - pixels[False])
    return {"today_per_core": rates[False], "new_per_core": rates[True],
            "speedup": rates[True] / rates[False],
            "mean_abs_difference": float(difference.mean()),
            "max_abs_difference": int(difference.max())}


def loader_rates(loader, passes=3, batch=BATCH, seed=0, settled=True):
    """Images/s of `loader.sample` per pass (len(loader) images drawn each,
    with replacement, so a pass leaves a third of a folder undecoded); with
    `settled`, one more pass after every file was offered to the cache
    (untimed): what a long run settles at."""
    rng = np.random.default_rng(seed)
    per_pass = max(1, len(loader) // batch)

    def one_pass():
        tick = time.perf_counter()
        for _ in range(per_pass):
            loader.sample(rng, batch)
        return per_pass * batch / (time.perf_counter() - tick)

    rates = [one_pass() for _ in range(passes)]
    if settled:
        for index in range(len(loader)):
            if hasattr(loader, "_load_pixels"):
                loader._load_pixels(index)
        rates.append(one_pass())
    close = getattr(loader, "close", None)
    if close:
        close()
    return rates


# ---------------------------------------------------------------------------
# A simulated fast accelerator: DCGAN with tiny networks
# ---------------------------------------------------------------------------

def tiny_dcgan_class():
    """DCGAN's recipe with networks of a few filters: a step takes a few ms on
    a CPU, as the real networks' step does on a GPU."""
    import keras
    from keras import layers

    from dcgan.dcgan import DCGAN

    class TinyDCGAN(DCGAN):
        def build_generator(self):
            # noise -> 16x16x4 -> nearest upsampling x4 -> 1x1 convolution to the image
            rows, cols = self.img_rows // 4, self.img_cols // 4
            return keras.Sequential([
                keras.Input((self.latent_dim,)),
                layers.Dense(4 * rows * cols, activation="relu"),
                layers.Reshape((rows, cols, 4)),
                layers.UpSampling2D(4),
                layers.Conv2D(self.channels, 1, activation="tanh"),
            ], name="generator")

        def build_discriminator(self):
            # two strided convolutions (4 and 8 filters), BatchNorm, a sigmoid score
            return keras.Sequential([
                keras.Input(self.img_shape),
                layers.Conv2D(4, 4, strides=4),
                layers.LeakyReLU(0.2),
                layers.Conv2D(8, 4, strides=4, use_bias=False),
                layers.BatchNormalization(momentum=0.8),
                layers.LeakyReLU(0.2),
                layers.Flatten(),
                layers.Dense(1, activation="sigmoid"),
            ], name="discriminator")

    return TinyDCGAN


def training_race(folder, out_dir, steps=2000, rounds=4, batch=BATCH, img_size=IMG_SIZE,
                  today=False, seed=0, verbose=True):
    """Seconds of `steps` training steps of the tiny DCGAN on each data set,
    alternated in `rounds` (each a share of the steps), after one warm-up step
    each (the compiled step traced). Returns {name: dict(seconds, steps_per_s,
    vs_memory)} for "memory", "folder" (and "today")."""
    from common import prefetch
    from common.data import ArrayImages
    TinyDCGAN = tiny_dcgan_class()
    folder_data = new_loader(folder, img_size)
    tick = time.perf_counter()
    memory = ArrayImages(folder_data.load_all())  # decoded beforehand, not timed
    if verbose:
        print(f"  {len(memory):,} images decoded into memory in "
              f"{time.perf_counter() - tick:.1f} s (not timed)")
    folder_data = new_loader(folder, img_size)  # a fresh cache: the run decodes every image
    runs = {"memory": (memory, None), "folder": (folder_data, None)}
    if today:
        runs["today"] = (todays_loader(folder, img_size), 0)
    shape = (img_size, img_size, 3)
    gans = {name: TinyDCGAN(img_shape=shape, dataset=dataset, seed=seed,
                            out_dir=os.path.join(out_dir, name))
            for name, (dataset, _) in runs.items()}
    seconds = {name: 0.0 for name in runs}
    for name, gan in gans.items():  # warm-up: trace and compile
        gan.train(epochs=1, batch_size=batch, sample_interval=10**9, quiet=True, overwrite=True)
    per_round = [steps // rounds + (k < steps % rounds) for k in range(rounds)]
    for count in per_round:
        for name, gan in gans.items():
            ahead = runs[name][1]
            previous = prefetch.BATCHES_AHEAD
            prefetch.BATCHES_AHEAD = previous if ahead is None else ahead
            try:
                tick = time.perf_counter()
                gan.train(epochs=count, batch_size=batch, sample_interval=10**9, quiet=True)
                seconds[name] += time.perf_counter() - tick
            finally:
                prefetch.BATCHES_AHEAD = previous
    return {name: {"seconds": s, "steps_per_s": steps / s, "ms_per_step": 1e3 * s / steps,
                   "vs_memory": seconds["memory"] / s} for name, s in seconds.items()}


# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", default=None, help="a folder of images (default: --crops)")
    parser.add_argument("--crops", default=None,
                        help="where the photo crops are written once (default: the zoo's cache)")
    parser.add_argument("--n", type=int, default=8000, help="how many photo crops")
    parser.add_argument("--only", choices=("decode", "loader", "training"), default=None)
    parser.add_argument("--steps", type=int, default=2000, help="training steps per data set")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--today", action="store_true",
                        help="train with today's loader too (slow: it decodes most batches)")
    parser.add_argument("--out", default=None, help="where the training runs write (a temp folder)")
    args = parser.parse_args(argv)
    import platform
    import tempfile

    from common.data import list_images
    from common.precision import cpu_name
    folder = args.folder or write_photo_crops(args.crops or default_crops(), args.n) and \
        (args.crops or default_crops())
    paths = list_images(folder)
    cpu = cpu_name()
    print(f"{len(paths):,} images in {folder}; {cpu}, {os.cpu_count()} cores; "
          f"Python {platform.python_version()}, Keras backend "
          f"{os.environ.get('KERAS_BACKEND', 'tensorflow')}.")
    results = {}
    if args.only in (None, "decode"):
        results["decode"] = rates = decode_rates(paths)
        print(f"decode, one thread, to {IMG_SIZE}x{IMG_SIZE}: today {rates['today_per_core']:,.0f} "
              f"images/s, new {rates['new_per_core']:,.0f} images/s ({rates['speedup']:.2f}x); "
              f"pixels differ by {rates['mean_abs_difference']:.2f} on average "
              f"(largest {rates['max_abs_difference']}) of 255")
    if args.only in (None, "loader"):
        results["loader"] = {}
        with tempfile.TemporaryDirectory() as tmp:
            from common.data import PreparedImages
            from common.prepare import prepare
            tick = time.perf_counter()
            prepared = prepare(folder, IMG_SIZE, os.path.join(tmp, "prepared.npz"), 3,
                               verbose=False)
            prepare_seconds = time.perf_counter() - tick
            for name, make in (("today", todays_loader), ("new", new_loader),
                               ("prepared", lambda f: PreparedImages(prepared, verbose=False))):
                rates = loader_rates(make(folder), args.passes)
                results["loader"][name] = rates
                print(f"loader {name:>8}: " + ", ".join(
                    f"pass {k + 1} {rate:,.0f}" for k, rate in enumerate(rates[:-1])) +
                    f", settled {rates[-1]:,.0f} images/s")
            print(f"  (common.prepare wrote the file in {prepare_seconds:.1f} s)")
    if args.only in (None, "training"):
        with tempfile.TemporaryDirectory() as tmp:
            race = training_race(folder, args.out or tmp, args.steps, args.rounds,
                                 today=args.today)
        results["training"] = race
        for name, row in race.items():
            print(f"training on {name:>6}: {row['ms_per_step']:.2f} ms/step, "
                  f"{row['steps_per_s']:.0f} steps/s, {row['vs_memory']:.2f}x the in-memory speed "
                  f"({args.steps:,} steps of batch {BATCH}, {IMG_SIZE}x{IMG_SIZE})")
    return results




if __name__ == "__main__":
    main()
