"""Small versions of every model, for the tests of the mechanics.

Each subclass keeps its model's recipe (losses, optimizers, the order of the
D and G steps, how the label reaches G and D, the sample grid) and the kinds
of layers its networks hold (BatchNormalization in the same networks,
Dropout in the same discriminators), with a few units or filters each and
fewer layers, so that tracing a step takes about half as long and running it
milliseconds. They are also the README's promise in action: a subclass with
its own networks trains with the inherited `train`. The real networks are
built by one test per model (`test_real_networks_*`).

A layer right before a BatchNormalization has no bias here: BatchNorm
subtracts it again, so its gradient is zero in exact arithmetic and float
noise in practice, and Adam's first steps turn that noise into steps of
either sign that two ways of computing the same update do not share.
"""
import keras
import numpy as np
from keras import layers

from acgan.acgan import ACGAN
from cgan.cgan import CGAN, ConditionalDCGAN
from cyclegan.cyclegan import CycleGAN, instance_normalization
from dcgan.dcgan import DCGAN
from gan.gan import GAN
from pix2pix.pix2pix import Pix2Pix
from srgan.srgan import SRGAN
from wgan.wgan import WGAN
from wgan_gp.wgan_gp import WGANGP

from common import paired, private, unpaired
from common.data import ArrayImages


class TinyGAN(GAN):
    """GAN's MLPs, 16 units wide: BatchNorm in G, none in D (as the recipe)."""

    def build_generator(self):
        return keras.Sequential([
            keras.Input((self.latent_dim,)),
            layers.Dense(16),
            layers.LeakyReLU(0.2),
            layers.BatchNormalization(momentum=0.8),
            layers.Dense(int(np.prod(self.img_shape)), activation="tanh"),
            layers.Reshape(self.img_shape),
        ], name="generator")

    def build_discriminator(self):
        return keras.Sequential([
            keras.Input(self.img_shape),
            layers.Flatten(),
            layers.Dense(16),
            layers.LeakyReLU(0.2),
            layers.Dense(1, activation="sigmoid"),
        ], name="discriminator")


class TinyDCGAN(DCGAN):
    """DCGAN's networks with 4 and 8 filters: BatchNorm in both, Dropout in D."""

    def build_generator(self):
        return small_dcgan_generator(self, kernel_size=3)

    def build_discriminator(self):
        return keras.Sequential([
            keras.Input(self.img_shape),
            layers.Conv2D(4, 3, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Dropout(0.25),
            layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(0.2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ], name="discriminator")


def _label_code(num_classes, size, label):
    """An int label (N, 1) to a learned vector (N, size), as the conditional models embed it."""
    return layers.Flatten()(layers.Embedding(num_classes, size)(label))


class TinyCGAN(CGAN):
    """CGAN's MLPs, 16 units wide, the label multiplied in as in the recipe:
    BatchNorm in G, Dropout in D."""

    def build_generator(self):
        noise = keras.Input((self.latent_dim,))
        label = keras.Input((1,), dtype="int32")
        x = layers.Multiply()([noise, _label_code(self.num_classes, self.latent_dim, label)])
        x = layers.LeakyReLU(0.2)(layers.Dense(16)(x))
        x = layers.BatchNormalization(momentum=0.8)(x)
        img = layers.Reshape(self.img_shape)(
            layers.Dense(int(np.prod(self.img_shape)), activation="tanh")(x))
        return keras.Model([noise, label], img, name="generator")

    def build_discriminator(self):
        img = keras.Input(self.img_shape)
        label = keras.Input((1,), dtype="int32")
        pixels = int(np.prod(self.img_shape))
        x = layers.Multiply()([layers.Flatten()(img), _label_code(self.num_classes, pixels, label)])
        x = layers.Dropout(0.4)(layers.LeakyReLU(0.2)(layers.Dense(16)(x)))
        return keras.Model([img, label], layers.Dense(1, activation="sigmoid")(x),
                           name="discriminator")


class TinyConditionalDCGAN(ConditionalDCGAN):
    """The conditional DCGAN with 4 and 8 filters: the label concatenated to
    G's noise and as D's extra channel; BatchNorm in G, Dropout in D."""

    label_dim = 4

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        noise = keras.Input((self.latent_dim,))
        label = keras.Input((1,), dtype="int32")
        x = layers.Concatenate()([noise, _label_code(self.num_classes, self.label_dim, label)])
        x = layers.Reshape((rows, cols, 4))(layers.Dense(4 * rows * cols, use_bias=False)(x))
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(x))
        x = layers.Conv2DTranspose(4, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(x))
        img = layers.Conv2DTranspose(self.channels, 4, strides=2, padding="same",
                                     activation="tanh")(x)
        return keras.Model([noise, label], img, name="generator")

    def build_discriminator(self):
        img = keras.Input(self.img_shape)
        label = keras.Input((1,), dtype="int32")
        plane = layers.Reshape((self.img_rows, self.img_cols, 1))(
            layers.Embedding(self.num_classes, self.img_rows * self.img_cols)(label))
        x = layers.Conv2D(8, 4, strides=4, padding="same")(layers.Concatenate()([img, plane]))
        x = layers.Dropout(0.25)(layers.LeakyReLU(0.2)(x))
        validity = layers.Dense(1, activation="sigmoid")(layers.Flatten()(x))
        return keras.Model([img, label], validity, name="discriminator")


class TinyACGAN(ACGAN):
    """ACGAN's networks with 4 and 8 filters: the label multiplied into G's
    noise, BatchNorm in both, Dropout in D, D's real/fake and class heads."""

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        noise = keras.Input((self.latent_dim,))
        label = keras.Input((1,), dtype="int32")
        x = layers.Multiply()([noise, _label_code(self.num_classes, self.latent_dim, label)])
        x = layers.Reshape((rows, cols, 4))(layers.Dense(4 * rows * cols, activation="relu")(x))
        x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.Conv2DTranspose(4, 4, strides=2, padding="same", activation="relu")(x)
        img = layers.Conv2DTranspose(self.channels, 4, strides=2, padding="same",
                                     activation="tanh")(x)
        return keras.Model([noise, label], img, name="generator")

    def build_discriminator(self):
        img = keras.Input(self.img_shape)
        x = layers.Dropout(0.25)(layers.LeakyReLU(0.2)(layers.Conv2D(4, 3, strides=2)(img)))
        x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.Flatten()(x)
        return keras.Model(img, [layers.Dense(1, activation="sigmoid", name="validity")(x),
                                 layers.Dense(self.num_classes, activation="softmax",
                                              name="label")(x)], name="discriminator")


class TinySRGAN(SRGAN):
    """SRGAN's networks with 4 filters: one residual block with BatchNorm and
    the long skip in G, two x2 upsampling stages; a patch D whose four
    stride-2 convolutions (BatchNorm after the first) leave one score per
    16x16 block."""

    def build_generator(self):
        img_lr = keras.Input((None, None, self.channels))
        c1 = layers.Conv2D(4, 3, padding="same", activation="relu")(img_lr)
        r = layers.Conv2D(4, 3, padding="same", use_bias=False)(c1)
        r = layers.BatchNormalization(momentum=0.8)(r)
        r = layers.Add()([r, c1])
        for _ in range(2):  # x2, x2
            r = layers.Conv2D(4, 3, padding="same", activation="relu")(layers.UpSampling2D()(r))
        gen_hr = layers.Conv2D(self.channels, 3, padding="same", activation="tanh")(r)
        return keras.Model(img_lr, gen_hr, name="generator")

    def build_discriminator(self):
        img = keras.Input(self.hr_shape)
        x = layers.LeakyReLU(0.2)(layers.Conv2D(4, 3, strides=2, padding="same")(img))
        x = layers.BatchNormalization(momentum=0.8)(x)
        for _ in range(3):
            x = layers.LeakyReLU(0.2)(layers.Conv2D(4, 3, strides=2, padding="same")(x))
        return keras.Model(img, layers.Dense(1, activation="sigmoid")(x), name="discriminator")


class TinyPix2Pix(Pix2Pix):
    """Pix2Pix's recipe (D on (output, input) pairs, least squares on every
    patch, L1 weighted 100) on networks of 4 filters with BatchNorm where the
    recipe has it: G a U-Net of one level (a strided convolution down,
    upsampled and joined to the image, a convolution out; Keras-GAN's G,
    without the input skip), D two stride-4 convolutions scoring every
    16x16 patch. (tests/test_pix2pix.py holds the real networks against
    Keras-GAN's.)"""

    def __init__(self, img_shape=(32, 32, 3), gf=4, df=4, **kwargs):
        if kwargs.get("input_skip"):
            raise ValueError("TinyPix2Pix's generator has no input skip")
        super().__init__(img_shape=img_shape, gf=gf, df=df, **kwargs)

    def build_generator(self):
        img = keras.Input(self.img_shape)
        down = layers.Conv2D(self.gf, 4, strides=2, padding="same")(img)
        down = layers.BatchNormalization(momentum=0.8)(layers.LeakyReLU(0.2)(down))
        up = layers.Concatenate()([layers.UpSampling2D()(down), img])
        out = layers.Conv2D(self.channels, 4, padding="same", activation="tanh")(up)
        return keras.Model(img, out, name="generator")

    def build_discriminator(self):
        img_A, img_B = keras.Input(self.img_shape), keras.Input(self.img_shape)
        x = layers.Concatenate()([img_A, img_B])
        x = layers.LeakyReLU(0.2)(layers.Conv2D(self.df, 4, strides=4, padding="same")(x))
        x = layers.Conv2D(self.df * 2, 4, strides=4, padding="same")(x)
        x = layers.BatchNormalization(momentum=0.8)(layers.LeakyReLU(0.2)(x))
        validity = layers.Conv2D(1, 4, padding="same")(x)
        return keras.Model([img_A, img_B], validity, name="discriminator")


class TinyCycleGAN(CycleGAN):
    """CycleGAN's recipe (two generators, two patch discriminators, the
    combined model's six losses, the pool) on networks of 4 filters with
    instance normalisation: each generator a U-Net of one level (a strided
    convolution down, upsampled and joined to the image, a convolution out),
    each discriminator two stride-4 convolutions scoring every 16x16 patch;
    and a pool of 3 images (the paper: 50), which a few steps of batch 2
    fill and swap. The real networks, with six generator passes in the
    combined model, take 10 s to trace on TensorFlow, these 3.5
    (tests/test_cyclegan.py holds the real ones against Keras-GAN's)."""

    def __init__(self, img_shape=(32, 32, 3), gf=4, df=4, pool_size=3, **kwargs):
        super().__init__(img_shape=img_shape, gf=gf, df=df, pool_size=pool_size, **kwargs)

    def build_generator(self, name="generator"):
        img = keras.Input(self.img_shape)
        down = layers.Conv2D(self.gf, 4, strides=2, padding="same")(img)
        down = instance_normalization()(layers.LeakyReLU(0.2)(down))
        up = layers.Concatenate()([layers.UpSampling2D()(down), img])
        out = layers.Conv2D(self.channels, 4, padding="same", activation="tanh")(up)
        return keras.Model(img, out, name=name)

    def build_discriminator(self, name="discriminator"):
        img = keras.Input(self.img_shape)
        x = layers.LeakyReLU(0.2)(layers.Conv2D(self.df, 4, strides=4, padding="same")(img))
        x = layers.Conv2D(self.df * 2, 4, strides=4, padding="same")(x)
        x = instance_normalization()(layers.LeakyReLU(0.2)(x))
        return keras.Model(img, layers.Conv2D(1, 4, padding="same")(x), name=name)


def smooth_photo(seed, size=(96, 128)):
    """A smooth random colour photo, uint8 (rows, cols, 3)."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize((size[1], size[0]), Image.BICUBIC))


def paired_photos(n_train=3, n_test=1, size=32):
    """Pix2Pix's offline kind of data set (crops of photos, degraded into G's
    inputs) on smooth random photos."""
    return paired.PairedImages("offline", [smooth_photo(i) for i in range(n_train)],
                               [smooth_photo(100 + i) for i in range(n_test)], img_size=size,
                               test_names=[f"test{i}" for i in range(n_test)])


def unpaired_images(size=32):
    """Two small domains of smooth colour images, B darker than A: six
    training images and two test images each, in memory."""
    a = np.stack([smooth_photo(i, (size, size)) for i in range(8)]) / 127.5 - 1
    b = np.stack([smooth_photo(50 + i, (size, size)) for i in range(8)]) / 255 - 1
    a, b = a.astype(np.float32), b.astype(np.float32)
    return unpaired.UnpairedImages("arrays", {"trainA": ArrayImages(a[:6]),
                                              "trainB": ArrayImages(b[:6])},
                                   (a[6:], b[6:]), size, flip=True, description="tiny arrays")


def small_dcgan_generator(gan, kernel_size):
    """DCGAN's generator with 4 filters: Dense, two x2 upsamplings, BatchNorm."""
    rows, cols = gan.img_rows // 4, gan.img_cols // 4
    return keras.Sequential([
        keras.Input((gan.latent_dim,)),
        layers.Dense(4 * rows * cols, activation="relu"),
        layers.Reshape((rows, cols, 4)),
        layers.UpSampling2D(),
        layers.Conv2D(4, kernel_size, padding="same", use_bias=False),
        layers.BatchNormalization(momentum=0.8),
        layers.Activation("relu"),
        layers.UpSampling2D(),
        layers.Conv2D(gan.channels, kernel_size, padding="same", activation="tanh"),
    ], name="generator")


def small_critic(gan, batchnorm):
    """A critic of 4 and 8 filters with a linear score; BatchNorm in the
    second block where the real critic has it (WGAN's, not WGAN-GP's)."""
    return keras.Sequential([
        keras.Input(gan.img_shape),
        layers.Conv2D(4, 3, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2D(8, 3, strides=2, padding="same"),
        *([layers.BatchNormalization(momentum=0.8)] if batchnorm else []),
        layers.LeakyReLU(0.2),
        layers.Flatten(),
        layers.Dense(1),
    ], name="critic")


class TinyWGAN(WGAN):
    """WGAN's recipe on networks of 4 and 8 filters."""

    def build_generator(self):
        return small_dcgan_generator(self, kernel_size=4)

    def build_critic(self):
        return small_critic(self, batchnorm=True)


class TinyWGANGP(WGANGP):
    """WGAN-GP's recipe on networks of 4 and 8 filters."""

    def build_generator(self):
        return small_dcgan_generator(self, kernel_size=4)

    def build_critic(self):
        return small_critic(self, batchnorm=False)


def stateful_layer_kinds(model):
    """The kinds of layers whose behaviour differs between training and
    inference (BatchNormalization, Dropout) that `model` holds: a tiny
    version must hold the same ones as the real network it stands for."""
    kinds = (layers.BatchNormalization, layers.Dropout)
    return {kind.__name__ for layer in private.all_layers(model)
            for kind in kinds if isinstance(layer, kind)}
