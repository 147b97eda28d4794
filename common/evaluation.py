"""Scoring a generator: draw samples, read them with the classifier
(`common.classifier`), compute the scores (`common.scores`); and the
evaluator that `--eval-interval` calls during training.

Importing it imports neither Keras nor TensorFlow (they load with the
classifier or the generator), nor the command line (`common.metrics`).
"""
import os

import numpy as np

from common.classifier import NUM_CLASSES, load_classifier
from common.errors import UserError


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
    return classifier.score(features, probabilities, labels)


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

