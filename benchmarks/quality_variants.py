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
import numpy as np
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


def combined_model(gan, gen_input, validity, code, continuous):
    """InfoGAN's combined model from G's input to D's verdict and Q's two
    heads, compiled as infogan.py compiles its own: the variants that
    rebuild it wire its inside differently."""
    combined = Model(gen_input, {"validity": validity, "code": code,
                                 "continuous": continuous}, name="combined")
    combined.compile(loss={"validity": "binary_crossentropy",
                           "code": gan.categorical_code_loss,
                           "continuous": gan.continuous_code_loss},
                     optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    return combined


class INFOGANIndependentCodes(INFOGAN):
    """The recipe with each sample's categorical code value drawn on its own,
    as the paper and Keras-GAN draw it: infogan.py before it balanced each
    batch's codes. The tables measured before then (docs/results.md,
    InfoGAN) are made again with it, and the InfoGAN variants below build on
    it, so that their commands make their tables again."""

    def sample_generator_input(self, rng, batch_size):
        noise = self.draw_noise(rng, batch_size)
        code = np.eye(self.num_classes)[rng.integers(0, self.num_classes, batch_size)]
        continuous = rng.uniform(-1, 1, (batch_size, self.continuous_dim))
        return np.concatenate([noise, code, continuous], axis=1).astype("float32")


class INFOGANAuthorsSplit(INFOGANIndependentCodes):
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


class INFOGANBodyThroughCombined(INFOGANIndependentCodes):
    """D's body trained by the information term inside the combined model, at
    G's Adam(1e-3): the combined model reads Q's features from D's body
    itself (not frozen), its real/fake score from the frozen D."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        gen_input = Input(shape=(self.input_dim,))
        img = self.generator(gen_input)
        validity = frozen(self.discriminator)(img)
        code, continuous = self.q_head(self.discriminator.get_layer("discriminator_body")(img))
        self.combined = combined_model(self, gen_input, validity, code, continuous)


class WGANEveryWeightClipped(WGAN):
    """WGAN whose clip covers BatchNorm's scale (gamma) too, as Keras-GAN's
    `get_weights()` and the authors' `netD.parameters()` do; the recipe
    leaves the scale free (wgan/wgan.py's docstring)."""

    def clipped_weights(self):
        return list(self.critic.trainable_weights)


class GANLearningRate1e3(GAN):
    """GAN at LSGAN's Adam(1e-3, beta_1=0.5) for D and G: does the learning
    rate alone account for LSGAN's lead over GAN? (gan.py: Keras-GAN's 2e-4)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_learning_rate(self, 1e-3)


class INFOGANKerasGANNoise(INFOGANIndependentCodes):
    """G's 62 noise values drawn from Keras-GAN's normal distribution, where
    infogan.py draws the authors' uniform [-1, 1]; everything else the recipe."""

    def draw_noise(self, rng, n):
        return rng.normal(0, 1, (n, self.latent_dim))


class INFOGANKerasGANDropout(INFOGANIndependentCodes):
    """D with Keras-GAN's Dropout(0.25) after each convolution's LeakyReLU,
    which the paper's D and infogan.py's lack; everything else the recipe."""

    def build_discriminator(self):
        body = super().build_discriminator().get_layer("discriminator_body")
        flatten = [isinstance(layer, keras.layers.Flatten) for layer in body.layers].index(True)
        with_dropout = []
        for position, layer in enumerate(body.layers):
            with_dropout.append(layer)
            if position < flatten and isinstance(layer, keras.layers.LeakyReLU):
                with_dropout.append(keras.layers.Dropout(0.25))
        body = keras.Sequential([Input(shape=self.img_shape), *with_dropout],
                                name="discriminator_body")
        img = Input(shape=self.img_shape)
        features = body(img)
        validity = keras.layers.Dense(1, activation="sigmoid", name="validity")(features)
        return Model(img, validity, name="discriminator")


class INFOGANKerasGANNoiseAndDropout(INFOGANKerasGANNoise, INFOGANKerasGANDropout):
    """Both of Keras-GAN's choices above, normal noise and D with Dropout:
    infogan.py's recipe before it took the authors' two."""


class INFOGANOneDUpdate(INFOGANIndependentCodes):
    """D's real and generated batches in one update, as the authors'
    (openai/InfoGAN: one Adam step on -mean log D(x) - mean log(1 - D(G(z))),
    D called on each batch apart, so BatchNorm normalises each on its own);
    infogan.py, as Keras-GAN, gives D two updates a step, one per batch.
    `discriminator_pair` takes (real, generated) and scores both."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        real, fake = Input(shape=self.img_shape), Input(shape=self.img_shape)
        self.discriminator_pair = Model([real, fake], {"real": self.discriminator(real),
                                                       "fake": self.discriminator(fake)},
                                        name="discriminator_pair")
        self.discriminator_pair.compile(loss="binary_crossentropy",
                                        optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        self.discriminator_pair.optimizer.build(self.discriminator_pair.trainable_variables)

    def networks(self):
        # (INFOGAN's __init__ asks for them before discriminator_pair exists)
        extra = ({"discriminator_pair": self.discriminator_pair}
                 if hasattr(self, "discriminator_pair") else {})
        return {**super().networks(), **extra}

    def train_step(self, imgs, d_input, g_input):
        valid = ops.ones((ops.shape(imgs)[0], 1))
        gen_imgs = generate(self.generator, d_input)
        d = train_on_batch(self.discriminator_pair, [imgs, gen_imgs],
                           {"real": valid, "fake": 0 * valid})
        _, code, continuous = self.split_generator_input(g_input)
        g = train_on_batch(self.combined, g_input,
                           {"validity": valid, "code": code, "continuous": continuous})
        return {"d_loss": 0.5 * d["loss"], "g_loss": g["validity_loss"],
                "q_code_loss": g["code_loss"], "q_continuous_loss": g["continuous_loss"]}


class INFOGANPaperGenerator(INFOGANIndependentCodes):
    """G as the paper's table for MNIST (and openai/InfoGAN): FC 1024 and FC
    7x7x128, then two 4x4 transposed convolutions of stride 2 (64 filters,
    then the image), BatchNorm before each ReLU; infogan.py has Keras-GAN's
    upsampling followed by 4x4 convolutions, BatchNorm after the ReLU."""

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        layers = keras.layers
        gen_input = Input(shape=(self.input_dim,))
        x = gen_input
        for units in (1024, 128 * rows * cols):
            x = layers.Dense(units)(x)
            x = layers.BatchNormalization(momentum=0.8)(x)
            x = layers.ReLU()(x)
        x = layers.Reshape((rows, cols, 128))(x)
        x = layers.Conv2DTranspose(64, kernel_size=4, strides=2, padding="same")(x)
        x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.ReLU()(x)
        img = layers.Conv2DTranspose(self.channels, kernel_size=4, strides=2, padding="same",
                                     activation="tanh")(x)
        return Model(gen_input, img, name="generator")



class INFOGANCodeWarmUp(INFOGANIndependentCodes):
    """The information term's two lambdas raised from 0 to the recipe's in
    `warm_up_steps // 5`-step stages (0, 0.2, 0.4, 0.6, 0.8 of them, then all),
    so that the codes take their meaning once G draws digit-like images: in
    the recipe Q reads the code (cross-entropy below 0.5) by step 100, when
    G's images are blobs, and what each code value draws is settled by
    step 1,000. Each stage is a train() of its own (a changed lambda is
    compiled into the next step)."""
    warm_up_steps = 1000

    def train(self, epochs, batch_size=32, sample_interval=200, **options):
        full = getattr(self, "_full_weights", None)
        if full is None:
            full = self._full_weights = (self.categorical_weight, self.continuous_weight)
            self._warmed = 0
        stage = self.warm_up_steps // 5
        while self._warmed < self.warm_up_steps and epochs > 0:
            share = (self._warmed // stage) / 5
            self.categorical_weight, self.continuous_weight = (share * w for w in full)
            steps = min(stage - self._warmed % stage, epochs)
            super().train(steps, batch_size, sample_interval, **options)
            self._warmed += steps
            epochs -= steps
        self.categorical_weight, self.continuous_weight = full
        if epochs > 0:
            super().train(epochs, batch_size, sample_interval, **options)


class INFOGANFasterD(INFOGANIndependentCodes):
    """D's Adam at 4e-4, twice the paper's 2e-4 (G and Q's head stay at 1e-3):
    does D learning digits sooner, before the codes settle, leave each code
    value purer? Everything else the recipe."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.discriminator.optimizer.learning_rate.assign(4e-4)


class INFOGANAveragedGenerator(INFOGANIndependentCodes):
    """The recipe, trained exactly as infogan.py trains it, with two running
    averages of G's weights beside it (decays 0.99 and 0.999, BatchNorm's
    moving statistics averaged with them, the decay ramped up as
    min(decay, (1 + t) / (10 + t)) so the random start fades at once):
    `scored_also` hands them to benchmarks/quality.py, which scores each
    beside G itself, on the one run."""
    decays = (0.99, 0.999)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.averages = {}
        for decay in self.decays:
            average = keras.models.clone_model(self.generator)
            average.set_weights(self.generator.get_weights())
            self.averages[decay] = average
        self.average_updates = keras.Variable(0.0, trainable=False, name="average_updates")

    @property
    def scored_also(self):
        return {f"_ema{decay}": average for decay, average in self.averages.items()}

    def train_step(self, *batch):
        losses = super().train_step(*batch)
        t = self.average_updates
        for decay, average in self.averages.items():
            rate = ops.minimum(decay, t / (t + 1.0))
            for kept, live in zip(average.variables, self.generator.variables):
                kept.assign(rate * kept + (1.0 - rate) * ops.cast(live, kept.dtype))
        t.assign(t + 1.0)
        return losses


class INFOGANBalancedCodes(INFOGANIndependentCodes):
    """Each batch's categorical codes as evenly spread over the ten values as
    its size allows (32: each value 3 times, two of them a 4th), in random
    order, where the paper draws each independently (a batch of 32 holds a
    value 0 to 8 times). Each code is still uniform over the ten values; what
    changes is that G's BatchNorm, whose batch mean takes in the codes' share
    of the first layer, sees the same mix of codes in every batch. What
    infogan.py now does (`balanced_codes`), with the random numbers drawn in
    another order (the independent codes first, then replaced)."""

    def sample_generator_input(self, rng, batch_size):
        gen_input = super().sample_generator_input(rng, batch_size)
        values = rng.permutation(np.resize(rng.permutation(self.num_classes), batch_size))
        gen_input[:, self.latent_dim:self.latent_dim + self.num_classes] = \
            np.eye(self.num_classes)[values]
        return gen_input


class INFOGANNoisyQ(INFOGANIndependentCodes):
    """Q reads the codes from G's images with Gaussian noise added (standard
    deviation `q_noise`, in the images' [-1, 1]; in training only), D's
    verdict from the images as they are. Two code values of one recipe run
    can draw near-identical rows that Q still tells apart (its cross-entropy
    near 0.02): a faint mark in the pixels is enough for Q, so G need not
    draw the values differently. Noise on Q's input drowns faint marks, so
    the difference Q reads has to be one of shape."""
    q_noise = 0.3

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        gen_input = Input(shape=(self.input_dim,))
        img = self.generator(gen_input)
        features = self.discriminator.get_layer("validity").input
        d_with_features = frozen(Model(self.discriminator.inputs,
                                       [self.discriminator.outputs[0], features],
                                       name="discriminator_with_features"))
        validity, _ = d_with_features(img)
        _, noisy_features = d_with_features(keras.layers.GaussianNoise(self.q_noise)(img))
        code, continuous = self.q_head(noisy_features)
        self.combined = combined_model(self, gen_input, validity, code, continuous)
