"""`python -m common.prepare DIR --img-size N` writes a folder once, at the
training size, into a uint8 array file that `--data` reads memory-mapped,
with the class labels and names (issue 29, as StyleGAN's dataset tool)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from common import data
from common.errors import UserError
from common.prepare import prepare
from conftest import REPO
from tiny import TinyCGAN, TinyDCGAN


@pytest.fixture
def classes(tmp_path):
    """Two class folders of small JPEGs and PNGs of another shape, one broken file."""
    rng = np.random.default_rng(0)
    for name, count in (("cats", 5), ("dogs", 4)):
        (tmp_path / "images" / name).mkdir(parents=True)
        for k in range(count):
            pixels = rng.integers(0, 256, (30 + k, 40, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / name / f"{k}.{'jpg png'.split()[k % 2]}")
    (tmp_path / "images" / "dogs" / "broken.jpg").write_bytes(b"not a jpeg")
    return tmp_path / "images"


def test_prepared_file_holds_the_folder_as_uint8_with_labels_and_class_names(classes, tmp_path):
    out = prepare(str(classes), 16, str(tmp_path / "pets.npz"), verbose=False)
    folder = data.ImageFolder(str(classes), 16, verbose=False)
    readable = [i for i in range(len(folder)) if folder._load_pixels(i) is not None]
    with np.load(out, allow_pickle=False) as npz:  # a plain .npz NumPy opens too
        assert npz["images"].dtype == np.uint8 and npz["images"].shape == (9, 16, 16, 3)
        np.testing.assert_array_equal(npz["images"],
                                      np.stack([folder._load_pixels(i) for i in readable]))
        np.testing.assert_array_equal(npz["labels"], folder.labels[readable])
        assert list(npz["class_names"]) == ["cats", "dogs"]
    prepared = data.load_training_data("mnist", out, labelled=True, verbose=False)
    assert isinstance(prepared.pixels, np.memmap)  # read from disk as batches ask
    assert prepared.shape == (16, 16, 3) and len(prepared) == 9
    assert prepared.class_names == ["cats", "dogs"] and prepared.num_classes == 2
    assert prepared.meta["skipped"] == 1 and prepared.meta["files"] == 10
    folder.close()


def test_prepared_batches_are_those_of_the_same_images_in_memory(classes, tmp_path):
    out = prepare(str(classes), 16, str(tmp_path / "pets.npz"), verbose=False)
    prepared = data.PreparedImages(out, verbose=False)
    in_memory = data.ArrayImages(prepared.load_all(), prepared.labels, prepared.class_names)
    images, labels = prepared.sample_labelled(np.random.default_rng(4), 8)
    expected_images, expected_labels = in_memory.sample_labelled(np.random.default_rng(4), 8)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    assert images.dtype == np.float32 and images.min() >= -1 and images.max() <= 1


def test_models_train_on_a_prepared_file(classes, tmp_path):
    out = prepare(str(classes), 16, str(tmp_path / "pets.npz"), verbose=False)
    plain = data.load_training_data("mnist", out, img_size=16, size_multiple=4, verbose=False)
    gan = TinyDCGAN(img_shape=plain.shape, dataset=plain, out_dir=str(tmp_path / "dcgan"), seed=0)
    gan.train(epochs=2, batch_size=4, sample_interval=1, quiet=True)
    labelled = data.load_training_data("mnist", out, labelled=True, verbose=False)
    cgan = TinyCGAN(img_shape=labelled.shape, num_classes=2, class_names=labelled.class_names,
                    dataset=labelled, out_dir=str(tmp_path / "cgan"), seed=0)
    cgan.train(epochs=2, batch_size=4, sample_interval=1, quiet=True)
    assert os.path.isfile(tmp_path / "cgan" / "saved_model" / "generator.keras")


def test_a_prepared_file_of_another_size_or_without_classes_is_one_clear_sentence(classes,
                                                                                 tmp_path):
    out = prepare(str(classes), 16, str(tmp_path / "pets.npz"), verbose=False)
    with pytest.raises(UserError, match=r"holds images of 16x16, not 32x32: pass --img-size 16"):
        data.load_training_data("mnist", out, img_size=32, verbose=False)
    plain = prepare(str(classes / "cats"), 16, str(tmp_path / "cats.npz"), verbose=False)
    with pytest.raises(UserError, match="holds no classes"):
        data.load_training_data("mnist", plain, labelled=True, verbose=False)
    with pytest.raises(UserError, match="comes from keras.datasets"):
        data.load_training_data("cifar10", out, verbose=False)


def test_an_mnist_npz_is_still_read_as_mnist(mnist_npz):
    assert not data.is_prepared_file(mnist_npz)
    assert data.load_training_data("mnist", mnist_npz, verbose=False).shape == (28, 28, 1)


def test_the_command_writes_the_file_beside_the_folder(classes):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "common.prepare", str(classes),
                             "--img-size", "8", "--channels", "1"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = str(classes) + "_8.npz"
    assert f"Wrote 9 images of 8x8x1, 2 classes (1 unreadable left out) to {out}" in result.stdout
    assert "broken.jpg" in result.stderr  # named once, with its reason
    assert data.PreparedImages(out, verbose=False).shape == (8, 8, 1)
    missing = subprocess.run([sys.executable, "-m", "common.prepare", str(classes / "none"),
                              "--img-size", "8"], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=120)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "does not exist" in missing.stderr
