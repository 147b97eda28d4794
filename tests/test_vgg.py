"""The VGG19 feature extractor of SRGAN's content loss: any image size, the
documented layer, ImageNet "caffe" preprocessing, frozen, weights from a local
file, and a clear choice (or error) when ImageNet weights cannot be had."""

import keras
import numpy as np
import pytest

from common import vgg
from common.errors import UserError


@pytest.fixture(scope="module")
def weights_file(vgg19):
    """The session's VGG19 weights file (tests/conftest.py), standing in for ImageNet's."""
    return vgg19[1]


@pytest.fixture(scope="module")
def default_features(weights_file):
    """The content loss's feature extractor at its default layer, from the weights file."""
    return vgg.build_vgg19_features(weights=weights_file)


def images(n=2, size=(32, 48), seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *size, 3)).astype("float32")


def reference_features(vgg19, layer, imgs):
    """What the features must be: keras.applications' VGG19 with those weights,
    cut at `layer`, fed preprocess_input of the 0..255 images."""
    full, _ = vgg19
    cut = keras.Model(full.inputs, full.get_layer(layer).output)
    pixels = (imgs + 1.0) * 127.5
    return cut.predict(keras.applications.vgg19.preprocess_input(pixels.copy()), verbose=0)


def test_vgg_without_downloaded_weights_takes_any_image_size_and_is_frozen():
    features = vgg.build_vgg19_features(weights=None)
    assert features.predict(images(2, (32, 32)), verbose=0).shape == (2, 2, 2, 512)
    assert features.predict(images(1, (48, 80)), verbose=0).shape == (1, 3, 5, 512)
    assert features.trainable_weights == [] and len(features.weights) == 32  # 16 convolutions


def test_default_features_are_the_papers_vgg54_with_imagenet_preprocessing(vgg19,
                                                                           default_features):
    imgs = images()
    got = default_features.predict(imgs, verbose=0)
    want = reference_features(vgg19, "block5_conv4", imgs)  # VGG54: block 5, 4th convolution
    assert got.shape == want.shape and np.abs(want).max() > 0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


def test_features_of_another_layer_from_the_weights_file(vgg19, weights_file):
    imgs = images()
    features = vgg.build_vgg19_features("block3_conv3", weights=weights_file)
    got = features.predict(imgs, verbose=0)
    want = reference_features(vgg19, "block3_conv3", imgs)
    assert got.shape == want.shape == (2, 8, 12, 256) and np.abs(want).max() > 0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


def test_preprocessing_is_keras_caffe_mode_bgr_mean_subtracted():
    imgs = images()
    got = keras.ops.convert_to_numpy(vgg.CaffePreprocessing()(imgs))
    want = keras.applications.vgg19.preprocess_input(((imgs + 1.0) * 127.5).copy())
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_content_loss_is_mse_of_scaled_features(default_features):
    features = default_features
    loss = vgg.VGGContentLoss(features)
    a, b = images(seed=1), images(seed=2)
    fa, fb = features.predict(a, verbose=0), features.predict(b, verbose=0)
    want = np.mean(((fa - fb) / 12.75) ** 2)
    assert float(loss(a, b)) == pytest.approx(want, rel=1e-4)
    assert float(loss(a, a)) == 0.0


def test_unknown_layer_and_missing_weights_file_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no layer 'block9_conv1'"):
        vgg.build_vgg19_features("block9_conv1", weights=None)
    with pytest.raises(UserError, match="does not exist"):
        vgg.build_vgg19_features(weights=str(tmp_path / "nothing.h5"))
    broken = tmp_path / "broken.weights.h5"
    broken.write_bytes(b"not an h5 file")
    with pytest.raises(UserError, match="could not be loaded"):
        vgg.build_vgg19_features(weights=str(broken))


def test_vgg_requested_without_weights_stops_with_a_clear_error_at_once(monkeypatch):
    # Every test runs offline with an empty Keras cache (tests/conftest.py).
    # "At once": offline, no VGG19 is built and no download is tried, which
    # could hang on a network that does not answer.
    def no_vgg19(weights):
        raise AssertionError(f"VGG19 built offline with weights={weights!r}")
    monkeypatch.setattr(vgg, "_vgg19", no_vgg19)
    with pytest.raises(UserError, match="ImageNet weights are not cached") as error:
        vgg.choose_content_loss("vgg", "imagenet")
    assert "--vgg-weights" in str(error.value) and "--content-loss mse" in str(error.value)


def test_auto_falls_back_to_pixel_mse_and_says_so(capsys):
    loss, description = vgg.choose_content_loss("auto", "imagenet")
    assert loss == "mse"
    assert "Content loss: pixel MSE" in capsys.readouterr().out


def test_auto_uses_vgg_when_weights_file_is_given(weights_file, capsys):
    loss, description = vgg.choose_content_loss("auto", weights_file, layer="block3_conv3")
    assert isinstance(loss, vgg.VGGContentLoss)
    assert "VGG19 block3_conv3 features" in capsys.readouterr().out


def test_srgan_combined_step_with_vgg_content_loss(weights_file, tmp_path):
    from tiny import TinySRGAN
    gan = TinySRGAN(hr_shape=(32, 32, 3), out_dir=str(tmp_path), seed=0,
                    content_loss="vgg", vgg_weights=weights_file)
    assert isinstance(gan.content_loss, vgg.VGGContentLoss)
    # VGG19 is held by the loss: not a weight of the combined model (nor of its checkpoints)
    assert len(gan.combined.weights) == len(gan.generator.weights)
    hr = images(2, (32, 32))
    lr = images(2, (8, 8), seed=3)
    logs = gan.combined.train_on_batch(lr, [np.ones((2, 2, 2, 1)), hr], return_dict=True)
    assert np.isfinite(logs["loss"])
