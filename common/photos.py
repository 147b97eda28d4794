"""High-resolution photos for super-resolution: crops, their bicubic
low-resolution versions, and a held-out test split.

The low-resolution input is always made from the high-resolution target by
bicubic downscaling (Pillow's, which low-pass filters first, like MATLAB's
`imresize`), so every LR pixel has its HR block, as in the SRGAN paper.
(Keras-GAN resized both from the original file, so the two did not match.)

Sources, in order:
  - a folder of images (`--data DIR`, or CelebA's `datasets/img_align_celeba`
    when it exists): the last files of the sorted list are held out for
    testing (up to 50, a tenth of a small folder);
  - offline, when no folder is given and none is found: the real photos that
    ship inside installed packages (scikit-image's `skimage.data`,
    matplotlib's portrait of Grace Hopper); the photos named in
    `PACKAGED_TEST` are held out whole.

Training draws random `hr_size` crops (flipped left-right half of the time,
and with `rotate` turned by a multiple of 90 degrees);
testing uses the held-out photos whole (centre crop of at most 512 x 512,
sides a multiple of the scale) and never flips. Values are float32 in [-1, 1].
"""
import os
import threading

import numpy as np

from common import data
from common.errors import UserError

DEFAULT_FOLDER = data.DEFAULT_CELEBA
# Whole photos kept out of training and used to measure PSNR/SSIM: a cat
# (fur, whiskers), a cup of coffee (smooth gradients, sharp rims) and a
# portrait (skin, cloth). The recipe was tuned on crops of the first two only.
PACKAGED_TEST = ("chelsea", "coffee", "grace_hopper")
# Photos to train on: people, objects, a street scene, microscopy and sky in
# colour, and grey photos and textures (as three equal channels). With G
# adding detail to bicubic upscaling, the grey textures help (docs/results.md,
# "SRGAN ablation") and cast no grey on colour photos.
PACKAGED_TRAIN = ("astronaut", "rocket", "motorcycle_left", "motorcycle_right",
                  "immunohistochemistry", "hubble_deep_field", "retina",
                  "camera", "coins", "moon", "brick", "grass", "gravel")
MAX_TEST_SIDE = 512
# Smaller photos cannot be scored: PSNR crops a 4-pixel border and SSIM's window
# needs 5 more pixels on each side.
MIN_TEST_SIDE = 32
MAX_FOLDER_TEST = 50


# ---------------------------------------------------------------------------
# Bicubic resizing on 8-bit pictures
# ---------------------------------------------------------------------------

def _resize(pixels, height, width):
    """uint8 (H, W, C) to (height, width, C) with Pillow's bicubic filter."""
    from PIL import Image
    pixels = np.asarray(pixels, dtype=np.uint8)
    channels = pixels.shape[-1]
    image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels)
    out = np.asarray(image.resize((width, height), Image.BICUBIC), dtype=np.uint8)
    return out.reshape(height, width, channels)


def downscale(hr_pixels, scale=4):
    """The low-resolution version of a uint8 HR image (H, W, C), H and W multiples
    of `scale`: bicubic, antialiased, rounded to 8 bits as a saved image is."""
    h, w = hr_pixels.shape[:2]
    return _resize(hr_pixels, h // scale, w // scale)


def bicubic_upscale(lr_images, scale=4):
    """The bicubic baseline: LR images in [-1, 1] (N, h, w, C) or (h, w, C) to
    (N, h*scale, w*scale, C) in [-1, 1], resized as 8-bit pictures."""
    lr_images = np.asarray(lr_images, dtype=np.float32)
    single = lr_images.ndim == 3
    batch = lr_images[None] if single else lr_images
    pixels = np.clip(np.round((batch + 1.0) * 127.5), 0, 255).astype(np.uint8)
    up = np.stack([_resize(p, p.shape[0] * scale, p.shape[1] * scale) for p in pixels])
    up = _to_unit(up)
    return up[0] if single else up


def _to_unit(pixels):
    return (np.asarray(pixels, dtype=np.float32) - 127.5) / 127.5


def _rgb(pixels):
    """Any uint8 photo (grey, RGB, RGBA) to (H, W, 3)."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return pixels[..., :3]


# ---------------------------------------------------------------------------
# Where photos come from
# ---------------------------------------------------------------------------

def _packaged_photo(name):
    """One packaged photo as uint8 (H, W, 3), or None when this install lacks it."""
    try:
        if name == "grace_hopper":
            from matplotlib import cbook
            from PIL import Image
            with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as image:
                return _rgb(image.convert("RGB"))
        import skimage.data
        if name.startswith("motorcycle_"):
            left, right, _ = skimage.data.stereo_motorcycle()
            return _rgb(left if name.endswith("left") else right)
        return _rgb(getattr(skimage.data, name)())
    except Exception:  # a missing package or file: that photo is simply not there
        return None


def packaged_photos(names):
    """{name: uint8 photo} of the `names` this installation has."""
    photos = {name: _packaged_photo(name) for name in names}
    return {name: photo for name, photo in photos.items() if photo is not None}


def read_photo_or_raise(path):
    """An image file as uint8 (H, W, 3), read as a viewer shows it (upright by
    its EXIF tag, first frame, transparency on white, 16-bit scaled: see
    `data.open_image`); raises data.UnreadableImage with the reason."""
    return np.asarray(data.open_image(path, channels=3), dtype=np.uint8)


def read_photo(path):
    """An image file as uint8 (H, W, 3), or None when it cannot be read."""
    try:
        return read_photo_or_raise(path)
    except data.UnreadableImage:
        return None


# ---------------------------------------------------------------------------
# The data set
# ---------------------------------------------------------------------------

class HighResPhotos:
    """HR crops and their bicubic LR versions for training; whole held-out photos for testing.

    Args:
        train: list of photos to train on: uint8 arrays (H, W, 3) or image file paths.
        test: list of held-out photos (arrays or paths), never used by `sample`.
        hr_size: side of the square HR training crops; a multiple of `scale`.
        scale: upscaling factor (4 in SRGAN).
        description: what the photos are, for messages.
        rotate: also turn training crops by multiples of 90 degrees (Keras-GAN
            only flips left-right).
        shuffle_colours: permute the RGB channels of training crops at random.
        test_names: a name for each held-out photo (default: file names or numbers).
        max_test_side: held-out photos are centre-cropped to at most this
            side; None keeps them whole.
    """

    def __init__(self, train, test, hr_size=64, scale=4, description="photos",
                 rotate=False, shuffle_colours=False, test_names=None,
                 max_test_side=MAX_TEST_SIDE):
        if hr_size % scale:
            raise UserError(f"The high-resolution size {hr_size} must be a multiple of "
                            f"the scale factor {scale}.")
        self.train = list(train)
        self.test = list(test)
        self.hr_size = hr_size
        self.scale = scale
        self.description = description
        self.rotate = rotate
        self.shuffle_colours = shuffle_colours
        self.max_test_side = max_test_side
        self._test_names = test_names
        self.skipped = 0
        self._bad = set()
        self._bad_lock = threading.Lock()
        self._report = data.SkipReport()
        self._pool = None
        self._test_pairs = None

    @property
    def shape(self):
        """Shape of one HR training crop."""
        return (self.hr_size, self.hr_size, 3)

    @property
    def lr_shape(self):
        return (self.hr_size // self.scale, self.hr_size // self.scale, 3)

    def __len__(self):
        return len(self.train)

    def _load(self, photo):
        if not isinstance(photo, str):
            return photo
        if photo in self._bad:  # counted once, not decoded again
            return None
        try:
            return read_photo_or_raise(photo)
        except data.UnreadableImage as error:
            with self._bad_lock:  # the pool's threads report bad files at once
                if photo not in self._bad:
                    self._bad.add(photo)
                    self.skipped += 1
                    self._report.add(photo, error)
            return None

    def close(self):
        """Shut the decoding threads down (`fit` calls it at the end of a run;
        the next `sample` starts them again); count the skipped files not named yet."""
        self._report.summary()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _fit(self, pixels):
        """A photo whose shorter side is below `hr_size` is enlarged to it, so a crop fits."""
        h, w = pixels.shape[:2]
        if min(h, w) >= self.hr_size:
            return pixels
        factor = self.hr_size / min(h, w)
        return _resize(pixels, max(self.hr_size, round(h * factor)), max(self.hr_size, round(w * factor)))

    def _augment(self, rng, crop):
        """Flip left-right half of the time (Keras-GAN); with `rotate`, also turn by a
        random multiple of 90 degrees (all 8 symmetries of the square); with
        `shuffle_colours`, permute the RGB channels at random."""
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if self.rotate:
            crop = np.rot90(crop, rng.integers(0, 4))
        if self.shuffle_colours:
            crop = crop[..., rng.permutation(3)]
        return crop

    def sample(self, rng, batch_size):
        """A training batch: random HR crops (flipped left-right at random) and
        their bicubic LR versions, (hr, lr) float32 in [-1, 1]."""
        from concurrent.futures import ThreadPoolExecutor
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
        crops = []
        while len(crops) < batch_size:
            picks = rng.integers(0, len(self.train), batch_size - len(crops))
            for pixels in self._pool.map(self._load, [self.train[i] for i in picks]):
                if pixels is None:
                    continue
                pixels = self._fit(pixels)
                h, w = pixels.shape[:2]
                top = rng.integers(0, h - self.hr_size + 1)
                left = rng.integers(0, w - self.hr_size + 1)
                crop = pixels[top:top + self.hr_size, left:left + self.hr_size]
                crops.append(np.ascontiguousarray(self._augment(rng, crop)))
            if not crops and len(self._bad) >= len(self.train):
                raise UserError(f"None of the training images in {self.description} could be read.")
        hr = np.stack(crops)
        lr = np.stack([downscale(c, self.scale) for c in crops])
        return _to_unit(hr), _to_unit(lr)

    def test_pairs(self):
        """The held-out photos as a list of (hr, lr) pairs, float32 in [-1, 1]:
        centre crops of at most `max_test_side` (512) pixels a side, sides a
        multiple of the scale. Photos too small to score (under MIN_TEST_SIDE
        pixels a side) or unreadable are left out."""
        if self._test_pairs is None:
            pairs, names = [], []
            for i, photo in enumerate(self.test):
                pixels = self._load(photo)
                if pixels is None or min(pixels.shape[:2]) < MIN_TEST_SIDE:
                    continue
                h, w = pixels.shape[:2]
                th, tw = min(h, self.max_test_side or h), min(w, self.max_test_side or w)
                th, tw = th // self.scale * self.scale, tw // self.scale * self.scale
                top, left = (h - th) // 2, (w - tw) // 2
                hr = pixels[top:top + th, left:left + tw]
                pairs.append((_to_unit(hr), _to_unit(downscale(hr, self.scale))))
                if self._test_names:
                    names.append(self._test_names[i])
                else:
                    names.append(os.path.basename(photo) if isinstance(photo, str)
                                 else f"photo {i + 1}")
            if not pairs:
                raise UserError(f"None of the held-out test images of {self.description} "
                                f"could be read as a photo of at least {MIN_TEST_SIDE} pixels "
                                "a side.")
            self._test_pairs, self._test_pair_names = pairs, names
        return self._test_pairs

    def test_names(self):
        """The names of the photos `test_pairs` returns, in its order."""
        self.test_pairs()
        return self._test_pair_names


def load_photos(folder=None, hr_size=64, scale=4, verbose=True, rotate=False,
                shuffle_colours=False):
    """The data set for super-resolution (see this module's docstring for the sources).

    Args:
        folder: a folder of images; None looks for `datasets/img_align_celeba`
            and, failing that, uses the packaged photos.
        hr_size: side of the HR training crops.
        scale: upscaling factor.
        rotate: also turn training crops by multiples of 90 degrees.
        shuffle_colours: permute the RGB channels of training crops at random.

    Returns:
        a `HighResPhotos`.
    """
    if folder is None and os.path.isdir(DEFAULT_FOLDER):
        folder = DEFAULT_FOLDER
    if folder is None:
        train = packaged_photos(PACKAGED_TRAIN)
        test = packaged_photos(PACKAGED_TEST)
        if not train or not test:
            raise UserError("No image folder was given, none was found at "
                            f"{DEFAULT_FOLDER}, and the offline photos of scikit-image could not "
                            "be loaded: install scikit-image, or pass a folder of images with --data.")
        if verbose:
            print(f"Photos: no image folder given and none at {DEFAULT_FOLDER}, so training on "
                  f"random {hr_size}x{hr_size} crops of {len(train)} photos shipped with "
                  f"scikit-image and matplotlib ({', '.join(train)}); held out for testing: "
                  f"{', '.join(test)}.")
        return HighResPhotos(list(train.values()), list(test.values()), hr_size, scale,
                             description="the packaged photos", test_names=list(test),
                             rotate=rotate, shuffle_colours=shuffle_colours)
    paths = data.list_images(folder)
    if len(paths) < 2:
        raise UserError(f"Image folder {folder} holds a single image: super-resolution needs "
                        "at least two, one to train on and one held out for testing.")
    n_test = min(MAX_FOLDER_TEST, max(1, len(paths) // 10))
    data.warn_small_images(paths[:-n_test], hr_size, what="the high-resolution crop size")
    if verbose:
        print(f"Photos: {len(paths) - n_test:,} images in {folder} to train on (random "
              f"{hr_size}x{hr_size} crops), the last {n_test} (sorted by name) held out for testing.")
    return HighResPhotos(paths[:-n_test], paths[-n_test:], hr_size, scale, description=folder,
                         rotate=rotate, shuffle_colours=shuffle_colours)


def photos_to_score(folder=None, scale=4):
    """Photos to score an upscaler on, all held out: every image in `folder`,
    whole (any size), or with no folder the packaged held-out photos."""
    if folder is None:
        test = packaged_photos(PACKAGED_TEST)
        if not test:
            raise UserError("The packaged held-out photos of scikit-image could not be loaded: "
                            "install scikit-image, or pass a folder of photos with --data.")
        return HighResPhotos([], list(test.values()), scale, scale, test_names=list(test),
                             description="the packaged held-out photos (" + ", ".join(test) + ")")
    if os.path.isfile(folder):
        raise UserError(f"{folder} is a file: pass the folder that holds the photos to score.")
    return HighResPhotos([], data.list_images(folder), scale, scale, description=folder,
                         max_test_side=None)
