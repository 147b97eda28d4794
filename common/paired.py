"""Paired images for image-to-image translation (pix2pix): a folder in the
pix2pix datasets' layout, or an offline restoration task built from photos
that ship with scikit-image and matplotlib.

A folder holds `train/` and `test/` (else `val/`), each of .jpg/.png files
that show the two images of a pair side by side: A on the left half, B on
the right (as the pix2pix datasets, facades, maps, edges2shoes, ... are
stored). As in Keras-GAN, G learns B -> A; `direction="AtoB"` turns it round.
Each half is resized to `img_size` x `img_size` (Pillow's bicubic filter,
antialiased); training pairs are flipped left-right half of the time (both
halves together, as Keras-GAN). Values are float32 in [-1, 1].

What a pair file must be (checked on the header of every file before
training, so a wrong folder is one sentence, not a crash hours later):
  - an even width: the two halves are the same size (an odd width means the
    halves differ by a column: refused, naming the file);
  - at least 1.5 times as wide as tall: pix2pix's pairs are two square halves
    (twice as wide as tall); a single photo (square, 4:3, 3:4) is refused.
    A single photo wider than 3:2 (a 16:9 frame) cannot be told from a pair
    by its shape and is taken as one.
Files that cannot be read as images are named in the error.

Offline (no folder): "restore degraded photo crops". A is a crop of a real
photo, B the same crop blurred (Gaussian, sigma `BLUR_SIGMA` pixels) with
Gaussian noise (`NOISE_LEVELS` 8-bit levels) added; training crops come from
`photos.PACKAGED_TRAIN`, the test crops from the whole photos in
`photos.PACKAGED_TEST` (a cat, a cup of coffee, a portrait), which training
never sees. The do-nothing baseline, B itself, is what G has to beat.

It also holds pix2pix's commands on a saved generator, as
common/superresolution.py holds SRGAN's: `evaluate_command` scores it
against its input on the test pairs, `translate_command` translates images
with it, and `save_grid` draws the figure both the sample intervals and
`--evaluate` save.
"""
import os

import numpy as np

from common import data, photos
from common.errors import UserError
from common.evaluation import load_generator
from common.image_quality import save_comparison_figure

DIRECTIONS = ("BtoA", "AtoB")
MIN_PAIR_ASPECT = 1.5       # width / height of a side-by-side pair file, at least
OFFLINE_SIZE = 64           # the offline task's side
MAX_OWN_SIZE = 128          # a folder's halves train at their own side up to this (CPU time)
MAX_TEST_IMAGES = 200       # test images scored (the first, sorted by name)
BLUR_SIGMA = 1.5            # the offline task's degradation
NOISE_LEVELS = 12.0
TEST_CROPS_PER_PHOTO = 8    # offline test crops per held-out photo (a fixed grid)
TEST_SEED = 12345           # the fixed noise of the offline test crops


def _to_unit(pixels):
    return (np.asarray(pixels, dtype=np.float32) - 127.5) / 127.5


def _resize(pixels, size):
    return photos._resize(pixels, size, size)


# ---------------------------------------------------------------------------
# The offline task: degraded crops of packaged photos
# ---------------------------------------------------------------------------

def degrade(pixels, rng):
    """The offline task's B: uint8 (H, W, 3) blurred and noisy, rounded to 8 bits."""
    from scipy.ndimage import gaussian_filter
    blurred = gaussian_filter(np.asarray(pixels, np.float64), sigma=(BLUR_SIGMA, BLUR_SIGMA, 0),
                              mode="reflect")
    noisy = blurred + rng.normal(0.0, NOISE_LEVELS, blurred.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def _grid_crops(pixels, size, count):
    """`count` crops of `size` from a fixed grid over the photo (deterministic)."""
    h, w = pixels.shape[:2]
    if min(h, w) < size:
        pixels = photos.HighResPhotos([], [], hr_size=size, scale=1)._fit(pixels)
        h, w = pixels.shape[:2]
    rows = max(1, int(np.floor(np.sqrt(count * h / w))))
    cols = int(np.ceil(count / rows))
    tops = np.linspace(0, h - size, rows).round().astype(int)
    lefts = np.linspace(0, w - size, cols).round().astype(int)
    return [pixels[t:t + size, l:l + size] for t in tops for l in lefts][:count]


class PairedImages:
    """Training pairs (drawn at random) and fixed test pairs for pix2pix.

    Args:
        source: "folder" or "offline".
        train, test: for a folder, lists of paths of side-by-side pair files;
            offline, lists of uint8 photos (H, W, 3).
        img_size: side of the square images trained on.
        direction: "BtoA" (G turns B, the right half, into A; Keras-GAN) or "AtoB".
        description: what the data is, for messages.
        test_names: names of the test images (default: file names).
    """

    def __init__(self, source, train, test, img_size=64, direction="BtoA",
                 description="paired images", test_names=None):
        if direction not in DIRECTIONS:
            raise UserError(f"--direction is BtoA or AtoB, not {direction}.")
        self.source, self.train, self.test = source, list(train), list(test)
        self.img_size, self.direction, self.description = img_size, direction, description
        self._names = test_names
        self._cache = {}
        self._test_pairs = None

    @property
    def shape(self):
        return (self.img_size, self.img_size, 3)

    def __len__(self):
        return len(self.train)

    def close(self):
        """Nothing to shut down (`fit` calls it at the end of a run)."""

    # -- folders -------------------------------------------------------------
    def _pair(self, path):
        """A pair file as uint8 (A, B), each img_size x img_size, cached."""
        pair = self._cache.get(path)
        if pair is None:
            try:
                pixels = photos.read_photo_or_raise(path)
            except data.UnreadableImage as error:
                raise UserError(f"Image {path} cannot be read ({error}): remove it or replace "
                                "it with a .jpg or .png of a side-by-side pair.") from None
            _check_pair_shape(path, pixels.shape[1], pixels.shape[0])
            half = pixels.shape[1] // 2
            pair = (_resize(pixels[:, :half], self.img_size),
                    _resize(pixels[:, half:], self.img_size))
            self._cache[path] = pair
        return pair

    def _oriented(self, a, b):
        """(input, target) of G: (B, A) for BtoA, (A, B) for AtoB."""
        return (b, a) if self.direction == "BtoA" else (a, b)

    def sample(self, rng, batch_size):
        """A training batch (target, input): float32 in [-1, 1], G's target first
        (Keras-GAN's imgs_A, imgs_B), each pair flipped left-right half of the time."""
        targets, inputs = [], []
        for _ in range(batch_size):
            i = int(rng.integers(0, len(self.train)))
            if self.source == "offline":
                a = self._offline_crop(rng, self.train[i])
                b = degrade(a, rng)
            else:
                a, b = self._pair(self.train[i])
            if rng.random() < 0.5:
                a, b = a[:, ::-1], b[:, ::-1]
            x, y = self._oriented(a, b)
            inputs.append(x)
            targets.append(y)
        return _to_unit(np.stack(targets)), _to_unit(np.stack(inputs))

    def _offline_crop(self, rng, photo):
        h, w = photo.shape[:2]
        size = self.img_size
        top = int(rng.integers(0, h - size + 1))
        left = int(rng.integers(0, w - size + 1))
        return np.ascontiguousarray(photo[top:top + size, left:left + size])

    def test_pairs(self):
        """The fixed test pairs as (target, input) float32 arrays (N, S, S, 3) in
        [-1, 1]: G's input and what it should turn it into; never flipped."""
        if self._test_pairs is None:
            if self.source == "offline":
                rng = np.random.default_rng(TEST_SEED)
                targets, inputs, names = [], [], []
                for name, photo in zip(self._names, self.test):
                    for k, a in enumerate(_grid_crops(photo, self.img_size, TEST_CROPS_PER_PHOTO)):
                        targets.append(a)
                        inputs.append(degrade(a, rng))
                        names.append(f"{name} {k + 1}")
            else:
                paths = self.test[:MAX_TEST_IMAGES]
                pairs = [self._oriented(*self._pair(p)) for p in paths]
                inputs, targets = [x for x, _ in pairs], [y for _, y in pairs]
                names = [os.path.basename(p) for p in paths]
            self._test_pairs = (_to_unit(np.stack(targets)), _to_unit(np.stack(inputs)))
            self._test_names = names
        return self._test_pairs

    def test_names(self):
        self.test_pairs()
        return self._test_names


def _check_pair_shape(path, width, height):
    if width < MIN_PAIR_ASPECT * height:
        raise UserError(f"Image {path} is {width}x{height} pixels, a single image: pix2pix "
                        "expects pairs, A and B side by side in one file at least 1.5 times as "
                        "wide as tall (the pix2pix datasets' 512x256).")
    if width % 2:
        raise UserError(f"Image {path} is {width} pixels wide, an odd width: its halves A and B "
                        "would differ in size by a column; a pair file holds two halves of the "
                        "same size side by side.")


def _header_size(path):
    """(width, height) of an image file as a viewer shows it (EXIF rotation
    applied), from its header; raises UserError naming the file when it is not
    an image."""
    from PIL import Image
    try:
        with Image.open(path) as image:
            width, height = image.size
            if image.getexif().get(0x0112) in (5, 6, 7, 8):  # turned a quarter
                width, height = height, width
            return width, height
    except Exception as error:  # Pillow raises several kinds for a file that is not an image
        raise UserError(f"Image {path} cannot be read ({type(error).__name__}: {error}): remove it "
                        "or replace it with a .jpg or .png of a side-by-side pair.") from None


def own_size(path):
    """The side a folder's pairs train at when no --img-size is given: that
    of the halves of `path` (the first training pair), rounded down to a
    multiple of 16 (G halves it 4 times and more), at least 16 and at most
    MAX_OWN_SIZE. Shrunk further, a fine degradation (slight blur, noise) is
    averaged away with the detail, and G has little left to restore
    (docs/results.md, "At the pairs' own size"); beyond 128 a CPU step takes
    long (--img-size asks for it)."""
    width, height = _header_size(path)
    return max(16, min(min(width // 2, height) // 16 * 16, MAX_OWN_SIZE))


def _shrink_hint(path, img_size):
    """A hint when the halves (those of `path`, the first training pair) are
    larger than `img_size`: shrinking them averages away fine detail and the
    fine degradations a restoration would undo (blur, noise), which leaves G
    less to learn (docs/pix2pix.md, "Data"). Empty otherwise."""
    width, height = _header_size(path)
    nearer = min(width // 2, height) // 16 * 16  # G's sides are multiples of 16
    if nearer <= img_size:
        return ""
    return (f" (the halves of {os.path.basename(path)} are {width // 2}x{height}: shrinking them "
            f"averages fine detail and noise away, leaving G less to restore; --img-size "
            f"{nearer} keeps more of them, slower)")


def _split_folder(folder, name):
    paths = data._image_files(os.path.join(folder, name))
    for path in paths:
        _check_pair_shape(path, *_header_size(path))
    return paths


def load_paired(folder=None, img_size=None, direction="BtoA", verbose=True):
    """The data set for pix2pix: a folder in the pix2pix layout, or (None) the
    offline restoration task; see the module's docstring. `img_size` None:
    the folder's halves' own side (`own_size`), or the offline task's 64."""
    if direction not in DIRECTIONS:
        raise UserError(f"--direction is BtoA or AtoB, not {direction}.")
    if folder is None:
        img_size = img_size or OFFLINE_SIZE
        if direction != "BtoA":
            raise UserError("The offline task (no --data) restores degraded photos, B into A: "
                            "--direction AtoB needs a folder of pairs given with --data.")
        train = photos.packaged_photos(photos.PACKAGED_TRAIN)
        test = photos.packaged_photos(photos.PACKAGED_TEST)
        if not train or not test:
            raise UserError("No --data folder was given and the offline photos of scikit-image "
                            "could not be loaded: install scikit-image, or pass a folder of "
                            "pairs (train/ and test/ or val/) with --data.")
        fitter = photos.HighResPhotos([], [], hr_size=img_size, scale=1)
        train_photos = [fitter._fit(p) for p in train.values()]
        if verbose:
            print(f"Pairs: no --data folder given, so the offline task: restore {img_size}x"
                  f"{img_size} photo crops blurred (sigma {BLUR_SIGMA}) with noise "
                  f"({NOISE_LEVELS:g} levels), B, into the originals, A; training crops from "
                  f"{len(train)} photos shipped with scikit-image and matplotlib, "
                  f"{TEST_CROPS_PER_PHOTO} test crops from each of {', '.join(test)}, "
                  "held out whole.")
        return PairedImages("offline", train_photos, list(test.values()), img_size, direction,
                            description="the offline restoration task", test_names=list(test))
    if os.path.isfile(folder):
        raise UserError(f"{folder} is a file: --data for pix2pix is a folder holding train/ and "
                        "test/ (or val/) of side-by-side pairs.")
    if not os.path.isdir(folder):
        raise UserError(f"Folder {folder} does not exist: pass a folder in the pix2pix layout "
                        "(train/, and test/ or val/, of side-by-side pairs) with --data.")
    if not os.path.isdir(os.path.join(folder, "train")):
        raise UserError(f"Folder {folder} has no train/ subfolder: pix2pix expects the pix2pix "
                        "datasets' layout, train/ and test/ (or val/) of side-by-side pairs.")
    test_name = next((n for n in ("test", "val") if os.path.isdir(os.path.join(folder, n))), None)
    if test_name is None:
        raise UserError(f"Folder {folder} has train/ but neither test/ nor val/: pix2pix scores "
                        "G on held-out pairs; put some in test/ (or val/).")
    train = _split_folder(folder, "train")
    test = _split_folder(folder, test_name)
    for name, paths in (("train", train), (test_name, test)):
        if not paths:
            raise UserError(f"Folder {os.path.join(folder, name)} holds no .jpg or .png images: "
                            "put the side-by-side pairs there.")
    width, height = _header_size(train[0])
    # Square halves trained at their side (rounded down to a multiple of 16)
    # keep their pixels; others are resized (non-square ones squeezed to a
    # square), and said so.
    side = width // 2 // 16 * 16
    img_size = img_size or own_size(train[0])
    at_own_size = img_size == side == height // 16 * 16
    sizing = (f"each half at {img_size}x{img_size}, its own size (rounded down to a multiple "
              "of 16 where it is not one; --img-size changes it)" if at_own_size else
              f"each half resized to {img_size}x{img_size}{_shrink_hint(train[0], img_size)}")
    if verbose:
        roles = "B (right half) into A (left half)" if direction == "BtoA" else \
            "A (left half) into B (right half)"
        print(f"Pairs: {len(train):,} in {os.path.join(folder, 'train')} to train on, "
              f"{min(len(test), MAX_TEST_IMAGES):,} of {os.path.join(folder, test_name)} scored; "
              f"G turns {roles}, {sizing}.")
    return PairedImages("folder", train, test, img_size, direction, description=folder)


def pairs_to_score(folder=None, img_size=64, direction="BtoA"):
    """The test pairs of `folder` (its test/ or val/; a folder with neither is
    scored whole) or of the offline task, for `--evaluate`."""
    if folder is not None and os.path.isdir(folder) and not any(
            os.path.isdir(os.path.join(folder, n)) for n in ("train", "test", "val")):
        paths = _split_folder(folder, ".")
        if not paths:
            raise UserError(f"Folder {folder} holds no .jpg or .png images of pairs.")
        return PairedImages("folder", [], paths, img_size, direction, description=folder)
    if folder is not None and os.path.isdir(folder) and not os.path.isdir(
            os.path.join(folder, "train")):
        test_name = next(n for n in ("test", "val") if os.path.isdir(os.path.join(folder, n)))
        paths = _split_folder(folder, test_name)
        return PairedImages("folder", [], paths, img_size, direction, description=folder)
    return load_paired(folder, img_size, direction, verbose=False)


# ---------------------------------------------------------------------------
# Scores: G(input) against the target, beside the input itself
# ---------------------------------------------------------------------------

def scores(targets, outputs):
    """Mean PSNR (dB, RGB, 8-bit), SSIM (RGB, Wang et al.'s Gaussian window;
    common/image_quality.py) and L1 (mean absolute difference in [-1, 1], the
    unit of the L1 loss G trains with) of `outputs` against `targets`."""
    from common.image_quality import image_scores, to_8bit
    per_image = [image_scores(t, o, border=0, channel="rgb") for t, o in zip(targets, outputs)]
    l1 = np.abs(to_8bit(outputs) - to_8bit(targets)).mean() / 127.5
    return {"psnr": float(np.mean([s["psnr"] for s in per_image])),
            "ssim": float(np.mean([s["ssim"] for s in per_image])),
            "l1": float(l1), "psnr_images": [s["psnr"] for s in per_image]}


def compare_with_input(generator, dataset, batch_size=16):
    """Scores of G(input) and of the input itself (the do-nothing baseline)
    against the targets of `dataset`'s test pairs; also G's outputs."""
    from keras import ops
    targets, inputs = dataset.test_pairs()
    outputs = np.concatenate([ops.convert_to_numpy(generator(inputs[i:i + batch_size],
                                                             training=False))
                              for i in range(0, len(inputs), batch_size)]).astype(np.float32)
    return {"g": scores(targets, outputs), "input": scores(targets, inputs), "outputs": outputs}


def flat_scores(compared):
    """The history.csv columns: psnr_g, ssim_g, l1_g, psnr_input, ssim_input, l1_input."""
    return {f"{metric}_{who}": compared[who][metric]
            for who in ("g", "input") for metric in ("psnr", "ssim", "l1")}


def format_scores(flat):
    return (f"PSNR {flat['psnr_g']:.2f} dB (input {flat['psnr_input']:.2f}), "
            f"SSIM {flat['ssim_g']:.4f} (input {flat['ssim_input']:.4f}), "
            f"L1 {flat['l1_g']:.4f} (input {flat['l1_input']:.4f})")


def save_grid(compared, dataset, path, title, direction="BtoA", columns=6):
    """Rows: G's input, G's output, the target; one column per test pair (the
    first `columns`), captioned with PSNR against the target."""
    targets, inputs = dataset.test_pairs()
    names = dataset.test_names()
    n = min(columns, len(targets))
    picks = np.linspace(0, len(targets) - 1, n).round().astype(int)
    src, dst = ("B", "A") if direction == "BtoA" else ("A", "B")
    rows = [[inputs[i] for i in picks], [compared["outputs"][i] for i in picks],
            [targets[i] for i in picks]]
    labels = [[f"{src} {compared['input']['psnr_images'][i]:.1f} dB" for i in picks],
              [f"G({src}) {compared['g']['psnr_images'][i]:.1f} dB" for i in picks],
              [f"{dst} (target)" for _ in picks]]
    return save_comparison_figure(rows, [names[i] for i in picks], path, cell_labels=labels,
                                  title=title)


# ---------------------------------------------------------------------------
# pix2pix.py --evaluate and --translate: a saved generator scored and used
# ---------------------------------------------------------------------------

def load_translator(path, command="pix2pix.py --evaluate"):
    """A saved image-to-image generator (.keras); anything else is one sentence."""
    return load_generator(path, expects="translator", command=command)


def evaluate_command(generator_path, data=None, out=None, direction="BtoA"):
    """`--evaluate G.keras [--data DIR]`: score a saved generator against its input
    on the test pairs; prints the scores, saves a grid beside G (or in `out`)."""
    generator = load_translator(generator_path)
    size = generator.inputs[0].shape[1]
    dataset = pairs_to_score(data, img_size=size, direction=direction)
    compared = compare_with_input(generator, dataset)
    flat = flat_scores(compared)
    targets, _ = dataset.test_pairs()
    print(f"{generator_path} on {len(targets)} test pairs of {dataset.description} "
          f"({size}x{size}): {format_scores(flat)}")
    name = os.path.splitext(os.path.basename(generator_path))[0]
    folder = out or os.path.dirname(os.path.abspath(generator_path))
    save_grid(compared, dataset, os.path.join(folder, f"{name}_evaluation.png"),
              f"{generator_path}", direction)
    return flat


def translate_command(source, generator_path, out=None, fit="resize"):
    """`--translate IMG_OR_DIR --generator G.keras [--out DIR] [--fit tile]`:
    common.translate writes each image translated, as NAME_pix2pix.png.
    Returns the paths written."""
    from common import translate
    if not generator_path:
        raise UserError("--translate needs the generator to translate with: add --generator "
                        "<out>/saved_model/generator.keras from a training run.")
    if not os.path.exists(source):
        raise UserError(f"{source} does not exist: pass an image (.jpg/.png) or a folder of them "
                        "to --translate.")
    generator = load_translator(generator_path, command="pix2pix.py --translate")
    return translate.translate_files(generator, source, generator_path, out=out,
                                     suffix="pix2pix", fit=fit)
