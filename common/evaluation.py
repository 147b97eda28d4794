"""Scoring a generator: draw samples, read them with the classifier
(`common.classifier`), compute the scores (`common.scores`); and the
evaluator that `--eval-interval` calls during training.

Importing it imports neither Keras nor TensorFlow (they load with the
classifier or the generator), nor the command line (`common.metrics`).
"""
import json
import os

import numpy as np

from common.classifier import NUM_CLASSES, load_classifier, load_folder_classifier
from common.errors import UserError
from common.files import replaced_atomically

# Beside a conditional model's generator.keras: the name of each class label.
CLASS_NAMES_FILE = "class_names.json"
# Beside a generator whose one input holds codes (InfoGAN's): how it is laid out.
CODES_FILE = "codes.json"
CODE_PARTS = ("noise", "categorical", "continuous")


def score_images(images, labels=None, classifier=None, batch_size=500):
    """Score a set of images (generated or real) against the classifier's
    training images.

    Args:
        images: float32 (N, 28, 28, 1) in [-1, 1] for MNIST (the classifier's
            shape), N >= 2 (use thousands: the Fréchet distance is biased
            upwards for small N).
        labels: optional int (N,) or (N, 1): the class each image should be;
            adds "conditional_accuracy".
        classifier: a `Classifier`; default `load_classifier()` (MNIST's).

    Returns:
        dict: n, frechet_distance (>= 0, lower is better), mnist_score (1..K,
        higher is better), classes (1..K), class_shares (K floats), and
        conditional_accuracy (0..1) when `labels` is given; K classes (10 for MNIST).
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


def saved_codes(generator_path, generator):
    """The layout of `generator`'s one input when its run saved one beside
    it (InfoGAN's saved_model/codes.json: {"noise": 62, "categorical": 10,
    "continuous": 2}, in that order), else None."""
    path = os.path.join(os.path.dirname(os.path.abspath(generator_path)), CODES_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as handle:
            stored = json.load(handle)
        codes = {part: int(stored[part]) for part in CODE_PARTS}
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise UserError(f"{path} should say how {generator_path}'s input is laid out "
                        f"({', '.join(CODE_PARTS)}: sizes), but it could not be read as that "
                        f"({type(error).__name__}: {error}): write it again or remove it.") from None
    latent_dim, conditional = generator_inputs(generator)
    if conditional or sum(codes.values()) != latent_dim:
        raise UserError(f"{path} lays out {sum(codes.values())} input values, but "
                        f"{generator_path} takes {latent_dim}: it belongs to another generator; "
                        "remove it or put the generator of its run beside it.")
    return codes


def generator_input(rng, n, latent_dim, codes=None, categorical=None):
    """G's one input for `n` samples: normal noise (N, latent_dim); with
    `codes` (see `saved_codes`) InfoGAN's, as it trains on them: the noise
    uniform in [-1, 1], then the one-hot categorical code (`categorical`: the
    code value of each sample; default drawn uniformly), then the continuous
    codes uniform in [-1, 1]."""
    if codes is None:
        return rng.normal(0, 1, (n, latent_dim)).astype("float32")
    if categorical is None:
        categorical = rng.integers(0, codes["categorical"], n)
    noise = rng.uniform(-1, 1, (n, codes["noise"]))
    one_hot = np.eye(codes["categorical"])[np.asarray(categorical)]
    continuous = rng.uniform(-1, 1, (n, codes["continuous"]))
    return np.concatenate([noise, one_hot, continuous], axis=1).astype("float32")


def generate(generator, n, conditional=None, batch_size=500, seed=0, num_classes=NUM_CLASSES,
             codes=None):
    """Draw `n` images from `generator` in batches.

    Args:
        generator: a keras Model; noise (N, latent_dim) -> images, or
            [noise, labels (N, 1) int] -> images when conditional.
        n: number of images.
        conditional: True/False, or None to read it from the generator's inputs.
        batch_size: images per call.
        seed: seed of the noise (and label order), so scores repeat.
        num_classes: conditional: labels are balanced over 0 .. num_classes - 1.
        codes: the layout of an InfoGAN generator's input (`saved_codes`).

    Returns:
        (images float32 (n, H, W, C) as the generator makes them, labels int32
        (n,) balanced over the classes, or None when unconditional).
    """
    if n < 2:
        raise UserError(f"Scoring needs at least 2 generated images (--n), got {n}.")
    latent_dim, has_labels = generator_inputs(generator)
    conditional = has_labels if conditional is None else conditional
    if conditional != has_labels:
        raise UserError(f"The generator takes {2 if has_labels else 1} input(s), so it is "
                        f"{'' if has_labels else 'not '}conditional: leave --conditional on auto.")
    from keras import ops  # here: the scores' modules load without Keras
    rng = np.random.default_rng(seed)
    noise = generator_input(rng, n, latent_dim, codes)
    labels = rng.permutation(np.arange(n) % num_classes).astype("int32") if conditional else None
    images = []
    for start in range(0, n, batch_size):
        batch = noise[start:start + batch_size]
        if conditional:
            batch = [batch, labels[start:start + batch_size, None]]
        images.append(np.asarray(ops.convert_to_numpy(generator(batch, training=False)),
                                 np.float32))
    return np.concatenate(images), labels


def score_generator(generator, n=5000, conditional=None, classifier=None, batch_size=500, seed=0,
                    codes=None):
    """Sample `n` images from `generator` and score them (see `score_images`).

    Args:
        generator: a keras Model making images in [-1, 1] of the classifier's
            shape ((N, 28, 28, 1) for MNIST) from noise (N, latent_dim), or
            from [noise, labels (N, 1) int] when conditional (labels balanced
            over the classifier's classes).
        n: number of samples (>= 2; 5,000 by default, compare runs at the same n).
        conditional: True/False, or None to read it from the generator's inputs.
        classifier: a `Classifier`; default `load_classifier()` (load it once
            and pass it when scoring during training).
        batch_size: images per generator and classifier call.
        seed: noise seed, so the same generator gets the same score.
        codes: the layout of an InfoGAN generator's input (`saved_codes`):
            its codes are drawn as in training, not as noise.

    Returns:
        The dict of `score_images`, with "conditional_accuracy" for conditional
        generators.
    """
    classifier = classifier or load_classifier()
    images, labels = generate(generator, n, conditional, batch_size, seed,
                              classifier.num_classes, codes)
    return score_images(images, labels, classifier, batch_size)


def training_evaluator(n=1000, classifier=None, data_dir=None):
    """A function `gan -> scores` for `common.training.fit(evaluate=...)`.

    It scores `n` samples of `gan.generator` (fixed noise, so only the
    generator changes between evaluations) and returns the numbers that go
    into history.csv: fid, mnist_score, classes and, for conditional models,
    cond_acc. The classifier is loaded (or trained) on the first call: the
    MNIST one, or with `data_dir` that of the folder's classes.
    """
    loaded = {"classifier": classifier}

    def evaluate(gan):
        shape = tuple(gan.generator.outputs[0].shape[1:])
        if data_dir is None and shape != (28, 28, 1):
            raise UserError(f"--eval-interval scores MNIST digits, but this generator makes "
                            f"images of shape {shape}: leave --eval-interval out.")
        if loaded["classifier"] is None and data_dir is not None:
            loaded["classifier"] = load_folder_classifier(data_dir, shape, verbose=False)
        elif loaded["classifier"] is None:
            loaded["classifier"] = load_classifier(verbose=False)
        scores = score_generator(gan.generator, n=n, classifier=loaded["classifier"],
                                 codes=gan.codes())
        row = {"fid": scores["frechet_distance"], "mnist_score": scores["mnist_score"],
               "classes": float(scores["classes"])}
        if "conditional_accuracy" in scores:
            row["cond_acc"] = scores["conditional_accuracy"]
        return row
    return evaluate



# What each command that loads a saved model expects (`load_generator`'s `expects`).
EXPECTED = {
    "generator": "a generator saved by the zoo (noise, or noise and a label, in; an image or "
                 "a curve out)",
    "upscaler": "SRGAN's generator (an image in, a 4x larger image out)",
    "translator": "an image-to-image generator (an image in, an image of the same size out: "
                  "pix2pix's generator.keras, CycleGAN's g_AB.keras or g_BA.keras)",
}


def _file_kind(path):
    """What a file that is not a loadable Keras model looks like, from its first bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return "an unreadable file"
    if not head:
        return "an empty file"
    if head.startswith(b"\x89PNG"):
        return "a PNG image"
    if head.startswith(b"\xff\xd8"):
        return "a JPEG image"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if head.startswith(b"\x89HDF"):
        return "an HDF5 file (weights alone, not a .keras model)"
    if head.startswith(b"PK"):
        import zipfile
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (OSError, zipfile.BadZipFile):
            return "a damaged zip archive"
        if "meta.npy" in names:
            return "a training checkpoint (.npz), not a saved model"
        if any(name.endswith(".npy") for name in names):
            return "a numpy archive (.npz)"
        return "a zip archive that holds no Keras model"
    if head.startswith(b"\x93NUMPY"):
        return "a numpy array (.npy)"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "a file of another kind"


def _shape(tensor):
    return tuple(tensor.shape[1:])


def describe_model(model):
    """What a loaded Keras model is, in words, read from its inputs and outputs:
    ("generator", "upscaler", "discriminator", ...) and a phrase naming it."""
    inputs = [_shape(t) for t in (getattr(model, "inputs", None) or [])]
    outputs = [_shape(t) for t in (getattr(model, "outputs", None) or [])]
    if not inputs or not outputs:
        return "unknown", "a Keras model without fixed inputs and outputs"
    image_in = len(inputs[0]) == 3
    if len(inputs) == 1 and len(inputs[0]) == 1:
        if len(outputs) == 1 and len(outputs[0]) == 3:
            return "generator", "a generator (noise in, an image out)"
        if len(outputs) == 1 and outputs[0] == (1,):
            return "combined", "a combined generator and discriminator (noise in, a score out)"
        if len(outputs) == 1 and len(outputs[0]) == 1:
            return "generator", "a generator (noise in, a curve out)"
    if (len(inputs) == 2 and len(inputs[0]) == 1 and inputs[1] in ((1,), ())
            and len(outputs) == 1):
        if len(outputs[0]) == 3:
            return "generator", "a conditional generator (noise and a label in, an image out)"
        if outputs[0] == (1,):
            return "combined", ("a combined generator and discriminator (noise and a label in, "
                                "a score out)")
    if image_in and len(inputs) == 1 and len(outputs) == 1 and len(outputs[0]) == 3 \
            and outputs[0][:2] == inputs[0][:2] and None not in inputs[0][:2]:
        return "translator", ("an image-to-image generator (an image in, an image of the same "
                              "size out)")
    if image_in and len(outputs) == 1 and len(outputs[0]) == 3 \
            and outputs[0][-1] == inputs[0][-1] and len(inputs) == 1:
        rows_in, rows_out = inputs[0][0], outputs[0][0]
        if rows_in is None or rows_out is None or rows_out > rows_in:
            return "upscaler", "an image-to-image generator such as SRGAN's (an image in, " \
                               "a larger image out)"
    if image_in or (len(inputs[0]) == 1 and len(inputs) == 2):
        what = "an image and a label in" if len(inputs) == 2 else "an image in"
        if len(outputs) == 1 and outputs[0][-1:] == (1,):
            patch = " per patch" if len(outputs[0]) == 3 else ""
            return "discriminator", f"a discriminator ({what}, a score{patch} out)"
        if len(outputs) == 1 and len(outputs[0]) == 1:
            return "classifier", f"a classifier ({what}, {outputs[0][0]} class scores out)"
        return "discriminator", f"a discriminator ({what}, {len(outputs)} scores out)"
    return "unknown", (f"a model that takes inputs of shapes {inputs} and gives outputs of "
                       f"shapes {outputs}")


def load_generator(path, expects="generator", command=None, advice=None):
    """Load the saved model (.keras) at `path` that a command was given and
    check that it is what the command `expects` (a key of `EXPECTED`:
    "generator", noise to images; "upscaler", SRGAN's image to larger image;
    "translator", pix2pix's or CycleGAN's image to image of the same size).
    Anything else (no such file, a folder, a file that is not a Keras model,
    a discriminator, another kind of generator) is a UserError of one
    sentence naming what `command` expected and what `path` is, followed by
    `advice[kind]` when the command has a way to use that kind of model."""
    expected = f"{command or 'This command'} expects {EXPECTED[expects]}"
    if os.path.isdir(path):
        raise UserError(f"{expected}; {path} is a folder: pass the generator.keras file in "
                        "it (a training run saves it in <out>/saved_model/).")
    if not os.path.isfile(path):
        raise UserError(f"{expected}; {path} does not exist: pass the generator.keras "
                        "a training run saved (in <out>/saved_model/).")
    import keras
    import common.bicubic  # noqa: F401 (SRGAN's generator holds its layer)
    import common.frozen  # noqa: F401 (a combined model holds its layer)
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception:  # Keras raises many kinds for a bad file: all mean "not a model"
        raise UserError(f"{expected}; {path} is {_file_kind(path)}, which could not be loaded "
                        "as a Keras model.") from None
    kind, described = describe_model(model)
    if kind != expects:
        wanted = {"generator": "a generator of noise", "upscaler": "SRGAN's generator",
                  "translator": "an image-to-image generator"}[expects]
        hint = (advice or {}).get(kind)
        raise UserError(f"{expected}; {path} is not {wanted} but {described}"
                        + (f": {hint}." if hint else "."))
    return model


def save_codes(codes, folder):
    """Write a generator's input layout (`GANModel.codes()`, InfoGAN's) to
    <folder>/codes.json, beside the generator saved there."""
    os.makedirs(folder, exist_ok=True)
    with replaced_atomically(os.path.join(folder, CODES_FILE)) as tmp, \
            open(tmp, "w", encoding="utf-8") as handle:
        json.dump(codes, handle)


def save_class_names(class_names, folder):
    """Write `class_names` (label k is named class_names[k]) to
    <folder>/class_names.json, beside the generator saved there."""
    os.makedirs(folder, exist_ok=True)
    with replaced_atomically(os.path.join(folder, CLASS_NAMES_FILE)) as tmp, \
            open(tmp, "w", encoding="utf-8") as handle:
        json.dump([str(name) for name in class_names], handle, ensure_ascii=False)


def saved_class_names(generator_path, generator):
    """The class names of a saved conditional generator: those saved beside
    it (see `save_class_names`), else "0", "1", ... for as many labels as the
    generator's label embedding takes (10 when it has none)."""
    path = os.path.join(os.path.dirname(os.path.abspath(generator_path)), CLASS_NAMES_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            names = json.load(handle)
        if isinstance(names, list) and names:
            return [str(name) for name in names]
    except (OSError, ValueError):  # none saved, or damaged: numbered classes
        pass
    embeddings = [layer for layer in generator.layers if type(layer).__name__ == "Embedding"]
    return [str(k) for k in range(int(embeddings[0].input_dim) if embeddings else NUM_CLASSES)]
