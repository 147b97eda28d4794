"""Recipes that benchmarks/quality.py measured against the models' own, for
docs/results.md ("Quality at equal steps"); pass one with --cls, e.g.

    python benchmarks/quality.py --model lsgan --cls quality_variants:LSGANKerasGANTargets \
        --tag _0_1_1 --steps 1000 2000 3000 --seeds 0 1
    python benchmarks/quality.py --model infogan --cls quality_variants:INFOGANAuthorsSplit \
        --tag _authors --steps 1000 --seeds 0

None of them is a model of the zoo: they exist so that the tables can be made again.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
from keras import ops
from keras.layers import Input
from keras.models import Model

from common.frozen import frozen
from common.step import generate, train_on_batch
from gan.gan import GAN
from infogan.infogan import INFOGAN
from lsgan.lsgan import LSGAN
from wgan.wgan import WGAN


def set_learning_rate(gan, rate):
    """D's and the combined model's Adam both at `rate` (GAN's and LSGAN's two
    optimizers), before any step."""
    for model in (gan.discriminator, gan.combined):
        model.optimizer.learning_rate.assign(rate)


class LSGANKerasGANLearningRate(LSGAN):
    """LSGAN (the paper's chi^2 targets) at Keras-GAN's Adam(2e-4, beta_1=0.5)
    for D and G; the recipe has the authors' 1e-3."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_learning_rate(self, 2e-4)


class LSGANKerasGANTargets(LSGANKerasGANLearningRate):
    """LSGAN with Keras-GAN's 0-1-1 targets (generated 0, real 1, G 1) and its
    learning rate, 2e-4."""

    def train_step(self, imgs, noise):
        valid = ops.ones((ops.shape(imgs)[0], 1))
        gen_imgs = generate(self.generator, noise)
        d_real = train_on_batch(self.discriminator, imgs, valid)
        d_fake = train_on_batch(self.discriminator, gen_imgs, 0 * valid)
        g = train_on_batch(self.combined, noise, valid)
        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]), "g_loss": g["loss"]}


class LSGANKerasGANTargetsFreshNoise(LSGANKerasGANTargets):
    """The same, G trained on new noise as gan.py (Keras-GAN's LSGAN reuses D's)."""
    draw_batch = GAN.draw_batch

    def train_step(self, imgs, noise, g_noise):
        valid = ops.ones((ops.shape(imgs)[0], 1))
        gen_imgs = generate(self.generator, noise)
        d_real = train_on_batch(self.discriminator, imgs, valid)
        d_fake = train_on_batch(self.discriminator, gen_imgs, 0 * valid)
        g = train_on_batch(self.combined, g_noise, valid)
        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]), "g_loss": g["loss"]}


class INFOGANAuthorsSplit(INFOGAN):
    """The information term split as in the authors' code (openai/InfoGAN,
    infogan_trainer.py): D's optimizer minimises D's loss - lambda * L_I over
    D's body and Q's head; G's optimizer minimises G's loss - lambda * L_I
    over G only. Here D's side is an update of its own, after D's two, on the
    generated batch of D's step: `info_model` (D's body and Q's head,
    Adam(2e-4, 0.5), D's numbers); the combined model holds D and Q's head
    frozen."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        features = self.discriminator.get_layer("validity").input
        code, continuous = self.q_head(features)
        self.info_model = Model(self.discriminator.inputs,
                                {"code": code, "continuous": continuous}, name="info_model")
        losses = {"code": self.categorical_code_loss, "continuous": self.continuous_code_loss}
        self.info_model.compile(loss=losses, optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        self.info_model.optimizer.build(self.info_model.trainable_variables)
        gen_input = Input(shape=(self.input_dim,))
        d_with_features = Model(self.discriminator.inputs,
                                [self.discriminator.outputs[0], features])
        validity, img_features = frozen(d_with_features)(self.generator(gen_input))
        code, continuous = frozen(self.q_head)(img_features)
        self.combined = Model(gen_input, {"validity": validity, "code": code,
                                          "continuous": continuous}, name="combined")
        self.combined.compile(loss={"validity": "binary_crossentropy", **losses},
                              optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))

    def networks(self):
        # (INFOGAN's __init__ asks for them before info_model exists)
        extra = {"information": self.info_model} if hasattr(self, "info_model") else {}
        return {**super().networks(), **extra}

    def train_step(self, imgs, d_input, g_input):
        valid = ops.ones((ops.shape(imgs)[0], 1))
        gen_imgs = generate(self.generator, d_input)
        d_real = train_on_batch(self.discriminator, imgs, valid)
        d_fake = train_on_batch(self.discriminator, gen_imgs, 0 * valid)
        _, code_d, continuous_d = self.split_generator_input(d_input)
        q = train_on_batch(self.info_model, gen_imgs,
                           {"code": code_d, "continuous": continuous_d})
        _, code, continuous = self.split_generator_input(g_input)
        g = train_on_batch(self.combined, g_input,
                           {"validity": valid, "code": code, "continuous": continuous})
        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["validity_loss"], "q_code_loss": q["code_loss"],
                "q_continuous_loss": q["continuous_loss"]}


class INFOGANBodyThroughCombined(INFOGAN):
    """D's body trained by the information term inside the combined model, at
    G's Adam(1e-3): the combined model reads Q's features from D's body
    itself (not frozen), its real/fake score from the frozen D."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        gen_input = Input(shape=(self.input_dim,))
        img = self.generator(gen_input)
        validity = frozen(self.discriminator)(img)
        code, continuous = self.q_head(self.discriminator.get_layer("discriminator_body")(img))
        self.combined = Model(gen_input, {"validity": validity, "code": code,
                                          "continuous": continuous}, name="combined")
        self.combined.compile(loss={"validity": "binary_crossentropy",
                                    "code": self.categorical_code_loss,
                                    "continuous": self.continuous_code_loss},
                              optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))


class WGANEveryWeightClipped(WGAN):
    """WGAN whose clip covers BatchNorm's scale (gamma) too, as Keras-GAN's
    `get_weights()` and the authors' `netD.parameters()` do; the recipe
    leaves the scale free (wgan/wgan.py's docstring)."""

    def clipped_weights(self):
        return list(self.critic.trainable_weights)


class INFOGANNoDropout(INFOGAN):
    """D without Keras-GAN's Dropout(0.25) after each convolution, as the
    paper's and the authors' D (conv 64, conv 128 with BatchNorm, FC 1024);
    everything else as infogan.py."""

    def build_discriminator(self):
        model = super().build_discriminator()
        body = model.get_layer("discriminator_body")
        kept = [layer for layer in body.layers if not isinstance(layer, keras.layers.Dropout)]
        body = keras.Sequential([Input(shape=self.img_shape), *kept], name="discriminator_body")
        img = Input(shape=self.img_shape)
        features = body(img)
        validity = keras.layers.Dense(1, activation="sigmoid", name="validity")(features)
        return Model(img, validity, name="discriminator")


class GANLearningRate1e3(GAN):
    """GAN at LSGAN's Adam(1e-3, beta_1=0.5) for D and G: does the learning
    rate alone account for LSGAN's lead over GAN? (gan.py: Keras-GAN's 2e-4)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_learning_rate(self, 1e-3)


class INFOGANUniformNoise(INFOGAN):
    """G's 62 noise values uniform in [-1, 1], the authors' (openai/InfoGAN,
    run_mnist_exp.py: `Uniform(62)`), where infogan.py draws them from
    Keras-GAN's normal distribution; codes and the rest unchanged."""

    def sample_generator_input(self, rng, batch_size):
        gen_input = super().sample_generator_input(rng, batch_size)
        gen_input[:, :self.latent_dim] = rng.uniform(-1, 1, (batch_size, self.latent_dim))
        return gen_input


class INFOGANUniformNoiseNoDropout(INFOGANUniformNoise, INFOGANNoDropout):
    """Both of the authors' choices above: uniform noise and D without Dropout."""
