"""VGG19 features for SRGAN's content loss (Ledig et al., 2017, "Photo-realistic
single image super-resolution using a generative adversarial network").

SRGAN compares a generated image with the original through the feature maps
of VGG19 (Simonyan & Zisserman, 2014) trained on ImageNet, rather than pixel by
pixel, so that G is rewarded for the right textures and not for the blurry
average of all plausible images.

`build_vgg19_features` makes that feature extractor:
  - `include_top=False`, so it takes images of any size (Keras-GAN built the
    classifier with its top, which only accepts 224 x 224);
  - the feature layer chosen by name. The default, `block5_conv4`, is the
    paper's VGG54 (the 4th convolution, after its ReLU, before the 5th
    pooling), the loss of its best-looking SRGAN. Keras-GAN took
    `vgg.layers[9]`, which is `block3_conv3` (its comment says "block 3");
    pass `layer="block3_conv3"` (`--vgg-layer`) for that;
  - inputs in [-1, 1] (the generator's tanh range) converted to the input
    VGG19 was trained on, `keras.applications.vgg19.preprocess_input`'s
    "caffe" mode: 0..255, RGB to BGR, ImageNet mean pixel subtracted, no
    scaling (Keras-GAN fed [-1, 1] images straight in);
  - frozen: its weights are never trained.

`VGGContentLoss` is the content loss: the mean squared difference of the
features of the original and of the generated image, the features scaled by
1/12.75 as in the paper, so the loss is of the size of a pixel MSE.

Weights: "imagenet" through `keras.applications` (its cache in
~/.keras/models/, else a download), or a local file (an .h5 or .weights.h5
of VGG19 without its top, e.g. the cached
vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 copied from a machine that
has it). Offline with no cache, "imagenet" fails within seconds
(`VGGWeightsUnavailable`), and `choose_content_loss("auto")` falls back to
pixel MSE and says so.
"""
import os
import socket

import keras
from keras import layers, ops

from common.errors import UserError

DEFAULT_LAYER = "block5_conv4"
# The paper divides the VGG feature maps by 12.75 so that the VGG loss is about
# the size of the MSE loss (Ledig et al., section 3.4).
FEATURE_SCALE = 1.0 / 12.75
# ImageNet's mean pixel in BGR order, as keras.applications.imagenet_utils subtracts it.
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)
IMAGENET_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
CONTENT_LOSSES = ("auto", "vgg", "mse")


class VGGWeightsUnavailable(UserError):
    """The ImageNet weights are neither cached nor downloadable."""


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class CaffePreprocessing(layers.Layer):
    """RGB images in [-1, 1] to VGG's input: 0..255, BGR, ImageNet mean subtracted
    (`keras.applications.vgg19.preprocess_input` of the 0..255 image)."""

    def call(self, images):
        pixels = (images + 1.0) * 127.5
        bgr = ops.flip(pixels, axis=-1)
        return bgr - ops.convert_to_tensor(IMAGENET_BGR_MEAN, dtype=bgr.dtype)


def imagenet_weights_cache():
    """Where keras.applications keeps the VGG19 no-top ImageNet weights."""
    home = os.path.expanduser(os.environ.get("KERAS_HOME", os.path.join("~", ".keras")))
    return os.path.join(home, "models", IMAGENET_NOTOP_FILE)


def _vgg19(weights):
    """keras.applications.VGG19 without its top, any input size, with `weights`."""
    return keras.applications.VGG19(include_top=False, weights=weights, input_shape=(None, None, 3))


def _load_vgg19(weights):
    if weights is None:  # random weights: for tests and for building without a download
        return _vgg19(None)
    if weights == "imagenet":
        from common.data import _online
        if not os.path.isfile(imagenet_weights_cache()) and not _online():
            raise VGGWeightsUnavailable(
                f"VGG19's ImageNet weights are not cached ({imagenet_weights_cache()}) and "
                "cannot be downloaded (no network); to use VGG19, copy that file from a machine "
                "that has it or pass a weights file with --vgg-weights.")
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(30)  # a stalled download must not hang the run
        try:
            return _vgg19("imagenet")
        except Exception as error:  # any failure of the download: no weights
            raise VGGWeightsUnavailable(
                f"VGG19's ImageNet weights could not be downloaded ({error}); to use VGG19, "
                "pass a weights file with --vgg-weights.") from None
        finally:
            socket.setdefaulttimeout(previous)
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise UserError(f"VGG19 weights file {path} does not exist: pass the path of an .h5 "
                        f"file of VGG19 without its top (e.g. {IMAGENET_NOTOP_FILE}).")
    try:
        return _vgg19(path)
    except Exception as error:  # h5py, shape or format errors all mean: not those weights
        raise UserError(f"VGG19 weights file {path} could not be loaded into VGG19 without "
                        f"its top ({type(error).__name__}: {error}).") from None


def build_vgg19_features(layer=DEFAULT_LAYER, weights="imagenet"):
    """The frozen VGG19 feature extractor of SRGAN's content loss.

    Args:
        layer: name of the VGG19 layer whose output are the features
            (default "block5_conv4", the paper's VGG54).
        weights: "imagenet" (keras.applications cache or download), a path to
            a weights file of VGG19 without its top, or None (random weights).

    Returns:
        A Model from RGB images (N, H, W, 3) in [-1, 1], any H, W >= 16, to
        the features (N, H / 2^k, W / 2^k, filters) of `layer`, with all
        weights frozen.

    Raises:
        VGGWeightsUnavailable: "imagenet" requested offline without a cache.
        UserError: an unknown layer, or a weights file that is missing or unreadable.
    """
    vgg = _load_vgg19(weights)
    names = [l.name for l in vgg.layers if isinstance(l, (layers.Conv2D, layers.MaxPooling2D))]
    if layer not in names:
        raise UserError(f"VGG19 has no layer {layer!r}: choose one of {', '.join(names)}.")
    features = keras.Model(vgg.inputs, vgg.get_layer(layer).output, name="vgg19_to_" + layer)
    images = keras.Input(shape=(None, None, 3))
    model = keras.Model(images, features(CaffePreprocessing()(images)), name=f"vgg19_{layer}")
    model.trainable = False  # a fixed measuring instrument, never trained
    return model


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class VGGContentLoss(keras.losses.Loss):
    """SRGAN's content loss: MSE between VGG19 features of the original (y_true)
    and of the generated image (y_pred), both in [-1, 1], features scaled by
    `scale` (1/12.75 as the paper).

    `features` is the model of `build_vgg19_features(layer, weights)`, built
    from `layer` and `weights` when not given; a saved model's compile
    configuration keeps `layer` and `weights` (not VGG19 itself) and builds
    the features again when it is loaded."""

    def __init__(self, features=None, scale=FEATURE_SCALE, layer=DEFAULT_LAYER,
                 weights="imagenet", name="vgg_content_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.features = features if features is not None else build_vgg19_features(layer, weights)
        self.scale = scale
        self.layer = layer
        self.weights = weights if weights is None or weights == "imagenet" else os.fspath(weights)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "layer": self.layer,
                "weights": self.weights}

    def call(self, y_true, y_pred):
        target = ops.stop_gradient(self.features(y_true, training=False))
        generated = self.features(y_pred, training=False)
        return ops.mean(ops.square((target - generated) * self.scale), axis=(1, 2, 3))


def choose_content_loss(mode="auto", weights="imagenet", layer=DEFAULT_LAYER, verbose=True):
    """The content loss to train with, and a line that says which it is.

    Args:
        mode: "vgg" (VGG19 features; stop with an error when the weights
            cannot be had), "mse" (pixel MSE), or "auto" (VGG19 when its
            weights can be had, else pixel MSE).
        weights, layer: as `build_vgg19_features`.

    Returns:
        (loss, description): a `VGGContentLoss` or the string "mse".
    """
    if mode not in CONTENT_LOSSES:
        raise UserError(f"Content loss {mode!r} is unknown: choose one of {', '.join(CONTENT_LOSSES)}.")
    loss, description = "mse", "pixel MSE"
    if mode != "mse":
        try:
            features = build_vgg19_features(layer, weights)
            source = {None: "random weights", "imagenet": "ImageNet weights"}.get(
                weights, f"weights from {weights}")
            loss = VGGContentLoss(features, layer=layer, weights=weights)
            description = f"VGG19 {layer} features ({source})"
        except VGGWeightsUnavailable as error:
            if mode == "vgg":
                raise VGGWeightsUnavailable(f"{error} Or train with pixels: --content-loss mse.") from None
            description = (f"pixel MSE, not VGG19 features (--content-loss auto): {error}")
    if verbose:
        print(f"Content loss: {description}")
    return loss, description


def add_content_loss_arguments(parser):
    """The --content-loss, --vgg-weights and --vgg-layer flags of `choose_content_loss`."""
    parser.add_argument("--content-loss", choices=CONTENT_LOSSES, default="auto",
                        help="vgg: VGG19 features (stop if its weights cannot be had); mse: "
                             "pixels; auto: VGG19 when its weights can be had, else pixels")
    parser.add_argument("--vgg-weights", default="imagenet",
                        help="VGG19 weights: imagenet (keras.applications cache or download) "
                             "or the path of a VGG19 no-top weights file")
    parser.add_argument("--vgg-layer", default=DEFAULT_LAYER,
                        help="VGG19 layer of the content loss (the paper's VGG54; "
                             "Keras-GAN used block3_conv3)")
