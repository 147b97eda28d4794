"""How fast is each model's `train()` step? One run, one machine, side by side:

  train()   the model's own `train()` (its recipe compiled into one step by
            common/training.py), warm steps timed inside the loop;
  eager     on JAX and PyTorch, the same `train()` with `jit_compile=False`:
            the recipe run operation by operation (what PyTorch's recorded
            step saves; on TensorFlow `jit_compile=False` is still a
            tf.function, without XLA, so there is no eager column);
  plain     Keras-GAN's loop on Keras 3: the same `train_step` run eagerly with
            the real `Model.train_on_batch` for each of its three updates, and
            the `discriminator.trainable` toggle a naive port needs around them;
  fused     a hand-written step of the same networks and losses on the
            backend Keras runs on: on TensorFlow a `tf.function(jit_compile=True)`
            (GradientTape, optimizer.apply); on JAX a `jax.jit` of the
            stateless step (stateless_call, value_and_grad, stateless_apply);
            on PyTorch autograd (backward, optimizer.apply), as keras.io's
            "custom train step" guides write them; every model has one on
            every backend (tests/test_benchmark.py holds each against
            three steps of `train()`).

The backend is Keras' (KERAS_BACKEND); the tables have a backend column, and
results.csv gains the rows of each backend run (the others' rows are kept).

They run round-robin, a few steps at a time, so a machine whose speed
drifts during the run treats them alike. For each it counts the
floating-point operations of one step (Dense and convolution layers: forward
2*MACs, backward twice the forward), measures the machine's float32
matrix-multiply rate in the same run and reports the achieved rate as a
fraction of it. It also reports what `train()` spends around its steps at
the model's default sample interval (sample grid, saved models, checkpoint,
loss plot, history), as a percentage of training time. With `--precisions`
each model runs in each precision (common/precision.py), all alternated in
the same rounds, and each row says how much faster its `train()` step is
than float32's. Results are printed and written to benchmarks/results.md
and results.csv.

    python benchmarks/train_step_speed.py                 # all models
    python benchmarks/train_step_speed.py --models dcgan --steps 30
    python benchmarks/train_step_speed.py --models dcgan,cgan-conv,acgan,srgan \
        --precisions float32,mixed_bfloat16 --variants train
"""
import argparse
import csv
import importlib
import inspect
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from common import private
from common.cli import PRECISIONS, tensorflow_chatter_hidden

# As quiet as the training scripts: the backend's C++ start-up lines hidden.
with tensorflow_chatter_hidden():
    import keras
    import numpy as np

    from common import backends, precision, training
    from common.history import History
    from common.run_state import run_state

    BACKEND = backends.name()
    if BACKEND == "tensorflow":
        import tensorflow as tf


# ---------------------------------------------------------------------------
# The models: how to build each at its default recipe and batch, and its
# hand-written fused reference step.
# ---------------------------------------------------------------------------

def _bce(y, p):
    return keras.ops.mean(keras.losses.binary_crossentropy(y, p))


def _acc(y, p):
    return keras.ops.mean(training.binary_accuracy(y, p))


def _mse(y, p):
    return keras.ops.mean(keras.losses.mean_squared_error(y, p))


# Each reference step returns what the recipe reports at every step, as
# Keras-GAN prints it and `train()` records it: D's loss and accuracy (the
# mean over its real and generated batches) and G's loss.


def fused_unconditional(gan, loss_fn=_bce):
    """GAN and DCGAN: D on real and generated images, then G, by hand (on
    fresh noise for GAN, on D's noise for DCGAN, as their `draw_batch` gives);
    LSGAN with the squared error as `loss_fn`."""
    G, D = gan.generator, gan.discriminator
    d_opt, g_opt = gan.discriminator.optimizer, gan.combined.optimizer

    @tf.function(jit_compile=True)
    def step(imgs, noise, g_noise=None):
        g_noise = noise if g_noise is None else g_noise
        ones = tf.ones((tf.shape(imgs)[0], 1))
        zeros = tf.zeros_like(ones)
        gen_imgs = G(noise, training=False)
        d_loss = d_acc = 0.0
        for batch, target in ((imgs, ones), (gen_imgs, zeros)):
            with tf.GradientTape() as tape:
                validity = D(batch, training=True)
                loss = loss_fn(target, validity)
                scaled = d_opt.scale_loss(loss)
            d_opt.apply(tape.gradient(scaled, D.trainable_variables), D.trainable_variables)
            d_loss, d_acc = d_loss + 0.5 * loss, d_acc + 0.5 * _acc(target, validity)
        with tf.GradientTape() as tape:
            g_loss = loss_fn(ones, D(G(g_noise, training=True), training=True))
            scaled = g_opt.scale_loss(g_loss)  # mixed_float16's loss scaling; else the loss
        g_opt.apply(tape.gradient(scaled, G.trainable_variables), G.trainable_variables)
        return d_loss, d_acc, g_loss
    return step


def fused_conditional(gan):
    """CGAN: the label goes to both networks."""
    G, D = gan.generator, gan.discriminator
    d_opt, g_opt = gan.discriminator.optimizer, gan.combined.optimizer

    @tf.function(jit_compile=True)
    def step(imgs, labels, noise, sampled_labels, *rest):
        ones = tf.ones((tf.shape(imgs)[0], 1))
        zeros = tf.zeros_like(ones)
        gen_imgs = G([noise, labels], training=False)
        d_loss = d_acc = 0.0
        for batch, target in ((imgs, ones), (gen_imgs, zeros)):
            with tf.GradientTape() as tape:
                validity = D([batch, labels], training=True)
                loss = _bce(target, validity)
                scaled = d_opt.scale_loss(loss)
            d_opt.apply(tape.gradient(scaled, D.trainable_variables), D.trainable_variables)
            d_loss, d_acc = d_loss + 0.5 * loss, d_acc + 0.5 * _acc(target, validity)
        with tf.GradientTape() as tape:
            fake = G([noise, sampled_labels], training=True)
            g_loss = _bce(ones, D([fake, sampled_labels], training=True))
            scaled = g_opt.scale_loss(g_loss)  # mixed_float16's loss scaling; else the loss
        g_opt.apply(tape.gradient(scaled, G.trainable_variables), G.trainable_variables)
        return d_loss, d_acc, g_loss
    return step


def fused_auxiliary_classifier(gan):
    """ACGAN: D judges real/fake and names the digit."""
    G, D = gan.generator, gan.discriminator
    d_opt, g_opt = gan.discriminator.optimizer, gan.combined.optimizer
    scce = keras.losses.SparseCategoricalCrossentropy()

    @tf.function(jit_compile=True)
    def step(imgs, labels, noise, sampled_labels, *rest):
        ones = tf.ones((tf.shape(imgs)[0], 1))
        zeros = tf.zeros_like(ones)
        gen_imgs = G([noise, sampled_labels], training=False)
        d_loss = d_acc = op_acc = 0.0
        for batch, target, label in ((imgs, ones, labels), (gen_imgs, zeros, sampled_labels)):
            with tf.GradientTape() as tape:
                validity, klass = D(batch, training=True)
                loss = _bce(target, validity) + scce(label, klass)
                scaled = d_opt.scale_loss(loss)
            d_opt.apply(tape.gradient(scaled, D.trainable_variables), D.trainable_variables)
            d_loss, d_acc = d_loss + 0.5 * loss, d_acc + 0.5 * _acc(target, validity)
            op_acc += 0.5 * keras.ops.mean(keras.metrics.sparse_categorical_accuracy(label, klass))
        with tf.GradientTape() as tape:
            validity, klass = D(G([noise, sampled_labels], training=True), training=True)
            g_loss = _bce(ones, validity) + scce(sampled_labels, klass)
            scaled = g_opt.scale_loss(g_loss)  # mixed_float16's loss scaling; else the loss
        g_opt.apply(tape.gradient(scaled, G.trainable_variables), G.trainable_variables)
        return d_loss, d_acc, op_acc, g_loss
    return step


def fused_super_resolution(gan):
    """SRGAN: D scores patches (MSE) of one batch, G gets 1e-3 x adversarial +
    content loss on the next, as Keras-GAN's loop loads one for each (the
    recipe's SRResNet pre-training steps aside: none by default)."""
    G, D = gan.generator, gan.discriminator
    d_opt, g_opt = gan.discriminator.optimizer, gan.combined.optimizer
    content = keras.losses.get(gan.content_loss)

    @tf.function(jit_compile=True)
    def step(imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr, *rest):
        ones = tf.ones((tf.shape(imgs_hr)[0],) + gan.disc_patch)
        zeros = tf.zeros_like(ones)
        fake_hr = G(imgs_lr, training=False)
        d_loss = d_acc = 0.0
        for batch, target in ((imgs_hr, ones), (fake_hr, zeros)):
            with tf.GradientTape() as tape:
                validity = D(batch, training=True)
                loss = keras.ops.mean(keras.losses.mean_squared_error(target, validity))
                scaled = d_opt.scale_loss(loss)
            d_opt.apply(tape.gradient(scaled, D.trainable_variables), D.trainable_variables)
            d_loss, d_acc = d_loss + 0.5 * loss, d_acc + 0.5 * _acc(target, validity)
        with tf.GradientTape() as tape:
            generated = G(g_imgs_lr, training=True)  # (a batch of the same size)
            g_loss = (1e-3 * _bce(ones, D(generated, training=True))
                      + keras.ops.mean(content(g_imgs_hr, generated)))
            scaled = g_opt.scale_loss(g_loss)  # mixed_float16's loss scaling; else the loss
        g_opt.apply(tape.gradient(scaled, G.trainable_variables), G.trainable_variables)
        return d_loss, d_acc, g_loss
    return step


def fused_pix2pix(gan):
    """Pix2Pix: D scores (image, B) pairs per patch with the squared error, real
    A against 1 and G(B) against 0; G gets the squared error of D's score of
    (G(B), B) against 1 plus 100 x the L1 distance of G(B) to A."""
    G, D = gan.generator, gan.discriminator
    d_opt, g_opt = gan.discriminator.optimizer, gan.combined.optimizer

    @tf.function(jit_compile=True)
    def step(imgs_A, imgs_B):
        ones = tf.ones((tf.shape(imgs_A)[0],) + gan.disc_patch)
        zeros = tf.zeros_like(ones)
        fake_A = G(imgs_B, training=False)
        d_loss = d_acc = 0.0
        for batch, target in ((imgs_A, ones), (fake_A, zeros)):
            with tf.GradientTape() as tape:
                validity = D([batch, imgs_B], training=True)
                loss = _mse(target, validity)
                scaled = d_opt.scale_loss(loss)
            d_opt.apply(tape.gradient(scaled, D.trainable_variables), D.trainable_variables)
            d_loss, d_acc = d_loss + 0.5 * loss, d_acc + 0.5 * _acc(target, validity)
        with tf.GradientTape() as tape:
            generated = G(imgs_B, training=True)
            g_loss = (_mse(ones, D([generated, imgs_B], training=True))
                      + 100 * keras.ops.mean(keras.losses.mean_absolute_error(imgs_A, generated)))
            scaled = g_opt.scale_loss(g_loss)  # mixed_float16's loss scaling; else the loss
        g_opt.apply(tape.gradient(scaled, G.trainable_variables), G.trainable_variables)
        return d_loss, d_acc, g_loss
    return step


def fused_cyclegan(gan):
    """CycleGAN: each D scores its domain's real images against 1 and the
    translations (through the pool, as the recipe) against 0 per patch with
    the squared error; both generators together get the squared error of
    each D's score of their translations against 1, plus 10 x the L1 cycle
    errors A -> B -> A and B -> A -> B, plus 1 x the L1 identity errors."""
    G_AB, G_BA, D_A, D_B = gan.g_AB, gan.g_BA, gan.d_A, gan.d_B
    g_opt = gan.combined.optimizer
    generators = G_AB.trainable_variables + G_BA.trainable_variables

    def l1(target, output):
        return keras.ops.mean(keras.losses.mean_absolute_error(target, output))

    @tf.function(jit_compile=True)
    def step(imgs_A, imgs_B, draws_A=None, draws_B=None):
        ones = tf.ones((tf.shape(imgs_A)[0],) + gan.disc_patch)
        zeros = tf.zeros_like(ones)
        fake_B, fake_A = G_AB(imgs_A, training=False), G_BA(imgs_B, training=False)
        if gan.pool_size:
            fake_A, fake_B = gan.pool_A.query(fake_A, draws_A), gan.pool_B.query(fake_B, draws_B)
        d_loss = d_acc = 0.0
        for D, real, fake in ((D_A, imgs_A, fake_A), (D_B, imgs_B, fake_B)):
            for batch, target in ((real, ones), (fake, zeros)):
                with tf.GradientTape() as tape:
                    validity = D(batch, training=True)
                    loss = _mse(target, validity)
                    scaled = D.optimizer.scale_loss(loss)
                D.optimizer.apply(tape.gradient(scaled, D.trainable_variables),
                                  D.trainable_variables)
                d_loss, d_acc = d_loss + 0.25 * loss, d_acc + 0.25 * _acc(target, validity)
        with tf.GradientTape() as tape:
            fake_B, fake_A = G_AB(imgs_A, training=True), G_BA(imgs_B, training=True)
            g_loss = (_mse(ones, D_A(fake_A, training=True)) + _mse(ones, D_B(fake_B, training=True))
                      + gan.lambda_cycle * (l1(imgs_A, G_BA(fake_B, training=True))
                                            + l1(imgs_B, G_AB(fake_A, training=True)))
                      + gan.lambda_id * (l1(imgs_A, G_BA(imgs_A, training=True))
                                         + l1(imgs_B, G_AB(imgs_B, training=True))))
            scaled = g_opt.scale_loss(g_loss)  # mixed_float16's loss scaling; else the loss
        g_opt.apply(tape.gradient(scaled, generators), generators)
        return d_loss, d_acc, g_loss
    return step


def fused_wasserstein(gan):
    """WGAN and WGAN-GP: `n_critic` critic updates on mean(D(fake)) -
    mean(D(real)), each followed by the clip of the critic's weights but
    BatchNorm's scale (WGAN, `gan.clipped_weights()`)
    or with the gradient penalty at random interpolates added (WGAN-GP,
    nested GradientTapes), then G on -mean(D(G(z)))."""
    G, D = gan.generator, gan.critic
    d_opt, g_opt = gan.critic.optimizer, gan.combined.optimizer
    penalty_weight = getattr(gan, "gradient_penalty_weight", None)

    def score(images):
        return tf.cast(D(images, training=True), "float32")

    @tf.function(jit_compile=True)
    def step(imgs, noise, g_noise):
        d_loss = 0.0
        for i in range(gan.n_critic):
            real, fake = imgs[:, i], G(noise[:, i], training=False)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(score(fake)) - tf.reduce_mean(score(real))
                if penalty_weight is not None:
                    eps = tf.random.uniform((tf.shape(real)[0], 1, 1, 1))
                    x_hat = eps * real + (1 - eps) * tf.cast(fake, real.dtype)
                    with tf.GradientTape() as inner:
                        inner.watch(x_hat)
                        x_score = score(x_hat)
                    grad = inner.gradient(x_score, x_hat)
                    norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-12)
                    loss += penalty_weight * tf.reduce_mean(tf.square(norm - 1.0))
                scaled = d_opt.scale_loss(loss)
            d_opt.apply(tape.gradient(scaled, D.trainable_variables), D.trainable_variables)
            if penalty_weight is None:
                for w in gan.clipped_weights():
                    w.assign(tf.clip_by_value(w, -gan.clip_value, gan.clip_value))
            d_loss += loss / gan.n_critic
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(score(G(g_noise, training=True)))
            scaled = g_opt.scale_loss(g_loss)  # mixed_float16's loss scaling; else the loss
        g_opt.apply(tape.gradient(scaled, G.trainable_variables), G.trainable_variables)
        return d_loss, g_loss
    return step


def fused_information(gan):
    """InfoGAN: D on real and generated images; then G and Q's head together
    on G's adversarial loss plus Q's code losses (lambda times -log Q(c|x)),
    Q reading, from D's body, the codes G was given."""
    G, D, Q = gan.generator, gan.discriminator, gan.q_head
    with_features = keras.Model(D.inputs, [D.outputs[0], D.get_layer("validity").input])
    d_opt, g_opt = gan.discriminator.optimizer, gan.combined.optimizer
    g_and_q = G.trainable_variables + Q.trainable_variables

    @tf.function(jit_compile=True)
    def step(imgs, d_input, g_input):
        ones = tf.ones((tf.shape(imgs)[0], 1))
        zeros = tf.zeros_like(ones)
        gen_imgs = G(d_input, training=False)
        d_loss = d_acc = 0.0
        for batch, target in ((imgs, ones), (gen_imgs, zeros)):
            with tf.GradientTape() as tape:
                validity = D(batch, training=True)
                loss = _bce(target, validity)
                scaled = d_opt.scale_loss(loss)
            d_opt.apply(tape.gradient(scaled, D.trainable_variables), D.trainable_variables)
            d_loss, d_acc = d_loss + 0.5 * loss, d_acc + 0.5 * _acc(target, validity)
        _, code, continuous = gan.split_generator_input(g_input)
        with tf.GradientTape() as tape:
            validity, features = with_features(G(g_input, training=True), training=True)
            code_probabilities, means = Q(features, training=True)
            g_loss = _bce(ones, validity)
            q_code = keras.ops.mean(gan.categorical_code_loss(code, code_probabilities))
            q_continuous = keras.ops.mean(gan.continuous_code_loss(continuous, means))
            scaled = g_opt.scale_loss(g_loss + q_code + q_continuous)
        g_opt.apply(tape.gradient(scaled, g_and_q), g_and_q)
        return d_loss, d_acc, g_loss, q_code, q_continuous
    return step


# ---------------------------------------------------------------------------
# The same references on JAX and on PyTorch. Most recipes are "D on a few
# batches, each against its target, then G through the frozen D": each is
# written once below in keras.ops (a recipe class), and run by JAX's and by
# PyTorch's mechanics (`fused_adversarial_jax`, `fused_adversarial_torch`).
# WGAN's and WGAN-GP's critic steps and CycleGAN's two discriminators and
# pools have a function per backend, with the same helpers.
# ---------------------------------------------------------------------------

def _targets(images, patch=(1,)):
    """1 and 0 for each of D's scores of `images` (per patch: Pix2Pix, CycleGAN, SRGAN)."""
    ones = keras.ops.ones((images.shape[0],) + tuple(patch))
    return ones, keras.ops.zeros_like(ones)


def _l1(target, output):
    return keras.ops.mean(keras.losses.mean_absolute_error(target, output))


def _mean(values):
    return sum(values) / len(values)


def judged_by(loss_fn):
    """D's loss and its real/fake accuracy on one batch: `judge(target, validity)`."""
    return lambda target, validity: (loss_fn(target, validity), (_acc(target, validity),))


class AdversarialRecipe:
    """GAN and DCGAN (LSGAN with `loss_fn` the squared error), as
    `fused_unconditional`: the recipe of the others below is theirs with
    other inputs, targets and losses.

    `d_batches(generate, *batch)`: what D trains on, in order, [(D's inputs,
    target)], `generate` giving G's images in inference mode; `judge(target,
    outputs)`: D's loss and metrics (a tuple); `g_loss(run, discriminate,
    *batch)`: the loss of the networks `trained` (G's step) and what it
    reports (a tuple), `run(model, inputs)` one of them in training mode,
    `discriminate(inputs)` the frozen D (or its `discriminator_view`)."""
    discriminator_view = None  # a model on D's very variables, in D's order

    def __init__(self, gan, loss_fn=_bce):
        self.gan, self.loss_fn = gan, loss_fn
        self.trained = (gan.generator,)

    def judge(self, target, validity):
        return judged_by(self.loss_fn)(target, validity)

    def d_batches(self, generate, imgs, noise, g_noise=None):
        ones, zeros = _targets(imgs)
        return [(imgs, ones), (generate(noise), zeros)]

    def g_loss(self, run, discriminate, imgs, noise, g_noise=None):
        ones, _ = _targets(imgs)  # (GAN: fresh noise; DCGAN: D's, as their draw_batch gives)
        loss = self.loss_fn(ones, discriminate(run(self.gan.generator,
                                                   noise if g_noise is None else g_noise)))
        return loss, (loss,)


class ConditionalRecipe(AdversarialRecipe):
    """CGAN (`fused_conditional`): the label goes to both networks."""

    def d_batches(self, generate, imgs, labels, noise, sampled_labels, *rest):
        ones, zeros = _targets(imgs)
        return [([imgs, labels], ones), ([generate([noise, labels]), labels], zeros)]

    def g_loss(self, run, discriminate, imgs, labels, noise, sampled_labels, *rest):
        ones, _ = _targets(imgs)
        fake = run(self.gan.generator, [noise, sampled_labels])
        loss = _bce(ones, discriminate([fake, sampled_labels]))
        return loss, (loss,)


class AuxiliaryClassifierRecipe(AdversarialRecipe):
    """ACGAN (`fused_auxiliary_classifier`): D judges real/fake and names the digit."""
    scce = keras.losses.SparseCategoricalCrossentropy()

    def d_batches(self, generate, imgs, labels, noise, sampled_labels, *rest):
        ones, zeros = _targets(imgs)
        return [(imgs, (ones, labels)),
                (generate([noise, sampled_labels]), (zeros, sampled_labels))]

    def judge(self, target, outputs):
        (real, label), (validity, klass) = target, outputs
        class_accuracy = keras.ops.mean(keras.metrics.sparse_categorical_accuracy(label, klass))
        return (_bce(real, validity) + self.scce(label, klass),
                (_acc(real, validity), class_accuracy))

    def g_loss(self, run, discriminate, imgs, labels, noise, sampled_labels, *rest):
        ones, _ = _targets(imgs)
        validity, klass = discriminate(run(self.gan.generator, [noise, sampled_labels]))
        loss = _bce(ones, validity) + self.scce(sampled_labels, klass)
        return loss, (loss,)


class SuperResolutionRecipe(AdversarialRecipe):
    """SRGAN (`fused_super_resolution`): D scores patches (squared error), G
    gets 1e-3 x adversarial + content loss on the second batch."""

    def __init__(self, gan):
        super().__init__(gan, _mse)
        self.content = keras.losses.get(gan.content_loss)

    def d_batches(self, generate, imgs_hr, imgs_lr, *rest):
        ones, zeros = _targets(imgs_hr, self.gan.disc_patch)
        return [(imgs_hr, ones), (generate(imgs_lr), zeros)]

    def g_loss(self, run, discriminate, imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr, *rest):
        ones, _ = _targets(g_imgs_hr, self.gan.disc_patch)
        generated = run(self.gan.generator, g_imgs_lr)
        loss = (1e-3 * _bce(ones, discriminate(generated))
                + keras.ops.mean(self.content(g_imgs_hr, generated)))
        return loss, (loss,)


class Pix2PixRecipe(AdversarialRecipe):
    """Pix2Pix (`fused_pix2pix`): D scores (image, B) pairs per patch, G gets
    D's verdict plus 100 x the L1 distance to A."""

    def __init__(self, gan):
        super().__init__(gan, _mse)

    def d_batches(self, generate, imgs_A, imgs_B):
        ones, zeros = _targets(imgs_A, self.gan.disc_patch)
        return [([imgs_A, imgs_B], ones), ([generate(imgs_B), imgs_B], zeros)]

    def g_loss(self, run, discriminate, imgs_A, imgs_B):
        ones, _ = _targets(imgs_A, self.gan.disc_patch)
        generated = run(self.gan.generator, imgs_B)
        loss = _mse(ones, discriminate([generated, imgs_B])) + 100 * _l1(imgs_A, generated)
        return loss, (loss,)


class InformationRecipe(AdversarialRecipe):
    """InfoGAN (`fused_information`): G and Q's head trained together on G's
    adversarial loss plus Q's code losses, Q reading D's body's features of
    G's image, for the codes G was given."""

    def __init__(self, gan):
        super().__init__(gan)
        D = gan.discriminator
        self.trained = (gan.generator, gan.q_head)
        # D's verdict and its body's features, in one pass
        self.discriminator_view = keras.Model(D.inputs,
                                              [D.outputs[0], D.get_layer("validity").input])
        assert ([id(v) for v in self.discriminator_view.variables]
                == [id(v) for v in D.variables]), "JAX gives the view D's values in D's order"

    def d_batches(self, generate, imgs, d_input, g_input):
        ones, zeros = _targets(imgs)
        return [(imgs, ones), (generate(d_input), zeros)]

    def g_loss(self, run, discriminate, imgs, d_input, g_input):
        gan = self.gan
        ones, _ = _targets(imgs)
        _, code, continuous = gan.split_generator_input(g_input)
        validity, features = discriminate(run(gan.generator, g_input))
        code_probabilities, means = run(gan.q_head, features)
        g_loss = _bce(ones, validity)
        q_code = keras.ops.mean(gan.categorical_code_loss(code, code_probabilities))
        q_continuous = keras.ops.mean(gan.continuous_code_loss(continuous, means))
        return g_loss + q_code + q_continuous, (g_loss, q_code, q_continuous)


def cyclegan_g_loss(gan, run, discriminate, imgs_A, imgs_B):
    """CycleGAN's generators' loss (`fused_cyclegan`): `run(G, images)` one
    generator in training mode, `discriminate(D, images)` a frozen D."""
    fake_B, fake_A = run(gan.g_AB, imgs_A), run(gan.g_BA, imgs_B)
    ones, _ = _targets(imgs_A, gan.disc_patch)
    return (_mse(ones, discriminate(gan.d_A, fake_A)) + _mse(ones, discriminate(gan.d_B, fake_B))
            + gan.lambda_cycle * (_l1(imgs_A, run(gan.g_BA, fake_B))
                                  + _l1(imgs_B, run(gan.g_AB, fake_A)))
            + gan.lambda_id * (_l1(imgs_A, run(gan.g_BA, imgs_A))
                               + _l1(imgs_B, run(gan.g_AB, imgs_B))))


# The recipes above, by kind of model (MODELS).
RECIPES = {"unconditional": AdversarialRecipe,
           "least_squares": lambda gan: AdversarialRecipe(gan, _mse),
           "conditional": ConditionalRecipe, "auxiliary_classifier": AuxiliaryClassifierRecipe,
           "super_resolution": SuperResolutionRecipe, "pix2pix": Pix2PixRecipe,
           "information": InformationRecipe}


# ---------------------------------------------------------------------------
# On JAX: one `jax.jit` of the stateless step (stateless_call,
# value_and_grad, stateless_apply), as keras.io's "custom train step in JAX".
# ---------------------------------------------------------------------------

class JaxNetworks:
    """The networks and optimizers of a JAX reference step, and its state:
    {name: values} of each network's weights (`name`, the model's name) and
    its other variables (`name + "/state"`: BatchNorm statistics, dropout's
    seed), each optimizer's variables and each pool's, carried from step to
    step as arrays (as Keras' own JAX trainer does) and put into the Keras
    variables by the step's `write_back`.

    `optimizers`: {name: (optimizer, the networks it trains together)};
    `pools`: CycleGAN's image pools (common/image_pool.py), by name."""

    def __init__(self, optimizers, pools=None):
        self.optimizers, self.pools = optimizers, pools or {}
        self.variables = {}
        for optimizer, trained in optimizers.values():
            for model in trained:
                self.variables[model.name] = model.trainable_variables
                self.variables[model.name + "/state"] = model.non_trainable_variables
        for name, pool in self.pools.items():
            self.variables[name] = pool.variables
        for name, (optimizer, trained) in optimizers.items():
            # over the weights it trains, in that order (builds once)
            optimizer.build([v for model in trained for v in model.trainable_variables])
            self.variables[name] = optimizer.variables

    def call(self, state, model, inputs, training=True, view=None):
        """`model` (or `view`, a model on its variables) on `inputs`, its
        weights and state from `state`, which keeps its new state in
        training mode (BatchNorm statistics, dropout's seed)."""
        outputs, new = (view or model).stateless_call(
            state[model.name], state[model.name + "/state"], inputs, training=training)
        if training:
            state[model.name + "/state"] = new
        return outputs

    def frozen(self, state, model, inputs, view=None):
        """`model` in training mode, its state left as it was: the recipe's
        frozen D in G's step (common/frozen.py)."""
        return self.call(dict(state), model, inputs, view=view)

    def query(self, state, name, images, draws):
        """The pool `name` given `images` (`ImagePool.query`), its variables
        from `state`, which keeps their new values."""
        pool = self.pools[name]
        with keras.StatelessScope(list(zip(pool.variables, state[name]))) as scope:
            given = pool.query(images, draws)
        state[name] = [scope.get_current_value(v) for v in pool.variables]
        return given

    def minimise(self, state, optimizer_name, loss_fn):
        """One update by the optimizer `optimizer_name` of the networks it
        trains, on `loss_fn(state) -> (loss, logs)`, which reads their weights
        from `state` (and may update their state, see `call`); returns the
        loss, the logs and the new state."""
        import jax
        optimizer, trained = self.optimizers[optimizer_name]
        names = [model.name for model in trained]

        def loss(weights):
            trial = dict(state, **dict(zip(names, weights)))
            value, logs = loss_fn(trial)
            return value, (logs, {k: v for k, v in trial.items() if k.endswith("/state")})

        weights = [state[name] for name in names]
        (value, (logs, updates)), grads = jax.value_and_grad(loss, has_aux=True)(weights)
        new, slots = optimizer.stateless_apply(state[optimizer_name], keras.tree.flatten(grads),
                                               keras.tree.flatten(weights))
        state = dict(state, **updates, **{optimizer_name: slots})
        for name, group in zip(names, weights):
            state[name], new = new[:len(group)], new[len(group):]
        return value, logs, state

    def train_discriminator(self, state, optimizer_name, batches, judge):
        """D's step: the network `optimizer_name` trains, on each (inputs,
        target) of `batches` in turn, with `judge(target, outputs) -> (loss,
        metrics)`; returns the mean loss, the mean metrics and the new state."""
        (D,) = self.optimizers[optimizer_name][1]
        losses, metrics = [], []
        for inputs, target in batches:
            loss, logs, state = self.minimise(
                state, optimizer_name, lambda s: judge(target, self.call(s, D, inputs)))
            losses.append(loss)
            metrics.append(logs)
        return _mean(losses), [_mean(m) for m in zip(*metrics)], state

    def step(self, jitted, **carried):
        """The benchmark's step around `jitted(state, *batch) -> (logs, state)`;
        `carried`: more values the state holds (a random key)."""
        state = {name: [v.value for v in group] for name, group in self.variables.items()}
        state.update(carried)

        def step(*batch):
            logs, new = jitted(state, *batch)
            state.update(new)
            return logs

        def write_back():
            """Put the step's state into the Keras variables (the timed steps keep it apart)."""
            for name, group in self.variables.items():
                for variable, value in zip(group, state[name]):
                    variable.assign(value)
        step.write_back = write_back
        return step


def fused_adversarial_jax(gan, recipe):
    """`recipe` (an `AdversarialRecipe`) by hand on JAX."""
    import jax
    G, D = gan.generator, gan.discriminator
    nets = JaxNetworks({"d_opt": (D.optimizer, [D]),
                        "g_opt": (gan.combined.optimizer, list(recipe.trained))})

    @jax.jit
    def jitted(state, *batch):
        d_batches = recipe.d_batches(
            lambda inputs: nets.call(state, G, inputs, training=False), *batch)
        d_loss, d_metrics, state = nets.train_discriminator(state, "d_opt", d_batches,
                                                            recipe.judge)

        def g_loss(s):
            return recipe.g_loss(lambda model, inputs: nets.call(s, model, inputs),
                                 lambda inputs: nets.frozen(s, D, inputs,
                                                            recipe.discriminator_view),
                                 *batch)

        _, g_logs, state = nets.minimise(state, "g_opt", g_loss)
        return (d_loss, *d_metrics, *g_logs), state

    return nets.step(jitted)


def fused_wasserstein_jax(gan):
    """WGAN and WGAN-GP by hand on JAX (see `fused_wasserstein`); the
    penalty's gradient with respect to the interpolates is a `jax.grad`
    inside the critic's loss."""
    import jax
    import jax.numpy as jnp
    G, D = gan.generator, gan.critic
    nets = JaxNetworks({"d_opt": (D.optimizer, [D]), "g_opt": (gan.combined.optimizer, [G])})
    penalty_weight = getattr(gan, "gradient_penalty_weight", None)
    if penalty_weight is None:  # state[D.name] lists D.trainable_variables in order
        clipped = {id(w) for w in gan.clipped_weights()}
        clip_mask = [id(w) in clipped for w in D.trainable_variables]

    def score(state, images, frozen=False):
        return (nets.frozen if frozen else nets.call)(state, D, images).astype("float32")

    def critic_loss(state, real, fake, key):
        loss = jnp.mean(score(state, fake)) - jnp.mean(score(state, real))
        if penalty_weight is not None:
            eps = jax.random.uniform(key, (real.shape[0], 1, 1, 1))
            x_hat = eps * real + (1 - eps) * fake.astype(real.dtype)
            grad = jax.grad(lambda x: jnp.sum(score(state, x, frozen=True)))(x_hat)
            norm = jnp.sqrt(jnp.sum(jnp.square(grad), axis=(1, 2, 3)) + 1e-12)
            loss += penalty_weight * jnp.mean(jnp.square(norm - 1.0))
        return loss, ()

    @jax.jit
    def jitted(state, imgs, noise, g_noise):
        d_loss = 0.0
        for i in range(gan.n_critic):
            fake = nets.call(state, G, noise[:, i], training=False)
            key, draw = jax.random.split(state["key"])
            loss, _, state = nets.minimise(
                state, "d_opt", lambda s: critic_loss(s, imgs[:, i], fake, draw))
            state["key"] = key
            if penalty_weight is None:
                state[D.name] = [jnp.clip(w, -gan.clip_value, gan.clip_value)
                                 if clipped else w
                                 for w, clipped in zip(state[D.name], clip_mask)]
            d_loss += loss / gan.n_critic
        g_loss, _, state = nets.minimise(state, "g_opt", lambda s: (
            -jnp.mean(score(s, nets.call(s, G, g_noise), frozen=True)), ()))
        return (d_loss, g_loss), state

    return nets.step(jitted, key=jax.random.PRNGKey(0))


def fused_cyclegan_jax(gan):
    """CycleGAN by hand on JAX (see `fused_cyclegan`), the pools queried on
    their variables' values in the step's state."""
    import jax
    G_AB, G_BA, D_A, D_B = gan.g_AB, gan.g_BA, gan.d_A, gan.d_B
    nets = JaxNetworks({"d_A_opt": (D_A.optimizer, [D_A]), "d_B_opt": (D_B.optimizer, [D_B]),
                        "g_opt": (gan.combined.optimizer, [G_AB, G_BA])},
                       pools={"pool_A": gan.pool_A, "pool_B": gan.pool_B} if gan.pool_size
                       else {})
    judge = judged_by(_mse)

    @jax.jit
    def jitted(state, imgs_A, imgs_B, draws_A=None, draws_B=None):
        state = dict(state)
        fake_B = nets.call(state, G_AB, imgs_A, training=False)
        fake_A = nets.call(state, G_BA, imgs_B, training=False)
        if gan.pool_size:
            fake_A = nets.query(state, "pool_A", fake_A, draws_A)
            fake_B = nets.query(state, "pool_B", fake_B, draws_B)
        ones, zeros = _targets(imgs_A, gan.disc_patch)
        d_logs = []
        for optimizer_name, real, fake in (("d_A_opt", imgs_A, fake_A),
                                           ("d_B_opt", imgs_B, fake_B)):
            loss, (acc,), state = nets.train_discriminator(
                state, optimizer_name, [(real, ones), (fake, zeros)], judge)
            d_logs.append((loss, acc))
        g_loss, _, state = nets.minimise(state, "g_opt", lambda s: (cyclegan_g_loss(
            gan, lambda G, images: nets.call(s, G, images),
            lambda D, images: nets.frozen(s, D, images), imgs_A, imgs_B), ()))
        return (*[_mean(logs) for logs in zip(*d_logs)], g_loss), state

    return nets.step(jitted)


# ---------------------------------------------------------------------------
# On PyTorch: autograd (backward) and the optimizers' `apply`, as keras.io's
# "custom train step in PyTorch". G's step runs the discriminators in
# training mode, as the TensorFlow references do, so their BatchNorm
# statistics move too: the same arithmetic, a little less care than the
# recipe's frozen D.
# ---------------------------------------------------------------------------

def torch_update(optimizer, loss, *models):
    """One update by `optimizer` of the weights of `models` on `loss`."""
    import torch
    weights = [w for model in models for w in model.trainable_weights]
    for model in models:
        model.zero_grad()
    loss.backward()
    with torch.no_grad():
        optimizer.apply([w.value.grad for w in weights], weights)


def torch_train_discriminator(D, batches, judge):
    """D's step: D trained on each (inputs, target) of `batches` in turn, with
    `judge(target, outputs) -> (loss, metrics)`; the mean loss and metrics."""
    losses, metrics = [], []
    for inputs, target in batches:
        loss, logs = judge(target, D(inputs, training=True))
        torch_update(D.optimizer, loss, D)
        losses.append(loss.detach())
        metrics.append([m.detach() for m in logs])
    return _mean(losses), [_mean(m) for m in zip(*metrics)]


def torch_inference(model):
    """`model` in inference mode, recording no autograd graph: G's images for D."""
    import torch

    def call(inputs):
        with torch.no_grad():
            return model(inputs, training=False)
    return call


def _tensors(batch):
    return [None if a is None else keras.ops.convert_to_tensor(a) for a in batch]


def fused_adversarial_torch(gan, recipe):
    """`recipe` (an `AdversarialRecipe`) by hand on PyTorch."""
    D, discriminate = gan.discriminator, recipe.discriminator_view or gan.discriminator
    generate = torch_inference(gan.generator)

    def step(*batch):
        batch = _tensors(batch)
        d_loss, d_metrics = torch_train_discriminator(D, recipe.d_batches(generate, *batch),
                                                      recipe.judge)
        g_loss, g_logs = recipe.g_loss(lambda model, inputs: model(inputs, training=True),
                                       lambda inputs: discriminate(inputs, training=True), *batch)
        torch_update(gan.combined.optimizer, g_loss, *recipe.trained)
        return (d_loss, *d_metrics, *[value.detach() for value in g_logs])
    return step


def fused_wasserstein_torch(gan):
    """WGAN and WGAN-GP by hand on PyTorch (see `fused_wasserstein`): the
    penalty's gradient with respect to the interpolates is
    `torch.autograd.grad(create_graph=True)`, differentiated again."""
    import torch
    G, D = gan.generator, gan.critic
    penalty_weight = getattr(gan, "gradient_penalty_weight", None)
    generate = torch_inference(G)

    def score(images):
        return D(images, training=True).float()

    def step(imgs, noise, g_noise):
        imgs, noise, g_noise = _tensors((imgs, noise, g_noise))
        d_mean = 0.0
        for i in range(gan.n_critic):
            real = imgs[:, i]
            fake = generate(noise[:, i]).to(real.dtype)
            loss = score(fake).mean() - score(real).mean()
            if penalty_weight is not None:
                eps = torch.rand((real.shape[0], 1, 1, 1), device=real.device)
                x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
                grad, = torch.autograd.grad(score(x_hat).sum(), x_hat, create_graph=True)
                norm = torch.sqrt(grad.square().sum(dim=(1, 2, 3)) + 1e-12)
                loss = loss + penalty_weight * (norm - 1.0).square().mean()
            torch_update(D.optimizer, loss, D)
            if penalty_weight is None:
                with torch.no_grad():
                    for w in gan.clipped_weights():
                        w.assign(keras.ops.clip(w.value, -gan.clip_value, gan.clip_value))
            d_mean = d_mean + loss.detach() / gan.n_critic
        g_loss = -score(G(g_noise, training=True)).mean()
        torch_update(gan.combined.optimizer, g_loss, G)
        return d_mean, g_loss.detach()
    return step


def fused_cyclegan_torch(gan):
    """CycleGAN by hand on PyTorch (see `fused_cyclegan`), through the pools."""
    import torch
    G_AB, G_BA, D_A, D_B = gan.g_AB, gan.g_BA, gan.d_A, gan.d_B
    judge = judged_by(_mse)

    def step(imgs_A, imgs_B, draws_A=None, draws_B=None):
        imgs_A, imgs_B = _tensors((imgs_A, imgs_B))
        with torch.no_grad():
            fake_B, fake_A = G_AB(imgs_A, training=False), G_BA(imgs_B, training=False)
            if gan.pool_size:
                fake_A = gan.pool_A.query(fake_A, draws_A)
                fake_B = gan.pool_B.query(fake_B, draws_B)
        ones, zeros = _targets(imgs_A, gan.disc_patch)
        d_logs = [torch_train_discriminator(D, [(real, ones), (fake, zeros)], judge)
                  for D, real, fake in ((D_A, imgs_A, fake_A), (D_B, imgs_B, fake_B))]
        g_loss = cyclegan_g_loss(gan, lambda G, images: G(images, training=True),
                                 lambda D, images: D(images, training=True), imgs_A, imgs_B)
        torch_update(gan.combined.optimizer, g_loss, G_AB, G_BA)
        d_loss = _mean([loss for loss, _ in d_logs])
        d_acc = _mean([metrics[0] for _, metrics in d_logs])
        return d_loss, d_acc, g_loss.detach()
    return step


def _recipe_run_by(mechanics):
    return {kind: (lambda gan, recipe=recipe: mechanics(gan, recipe(gan)))
            for kind, recipe in RECIPES.items()}


# The hand-written reference step of each recipe, per backend.
FUSED = {
    "tensorflow": {"unconditional": fused_unconditional, "conditional": fused_conditional,
                   "auxiliary_classifier": fused_auxiliary_classifier,
                   "super_resolution": fused_super_resolution,
                   "least_squares": lambda gan: fused_unconditional(gan, _mse),
                   "wasserstein": fused_wasserstein, "information": fused_information,
                   "pix2pix": fused_pix2pix, "cyclegan": fused_cyclegan},
    "jax": {**_recipe_run_by(fused_adversarial_jax), "wasserstein": fused_wasserstein_jax,
            "cyclegan": fused_cyclegan_jax},
    "torch": {**_recipe_run_by(fused_adversarial_torch), "wasserstein": fused_wasserstein_torch,
              "cyclegan": fused_cyclegan_torch},
}


def photos(hr_size):
    """The photos SRGAN trains on offline (common/photos.py), in `hr_size` crops."""
    def load():
        from common.photos import load_photos
        return load_photos(hr_size=hr_size, verbose=False)
    return load


def digits_task():
    """CycleGAN's offline task (common/unpaired.py): grey <-> coloured digits, 32x32."""
    from common.unpaired import load_unpaired
    return load_unpaired(verbose=False)


def pairs(img_size):
    """Pix2Pix's offline task (common/paired.py) at `img_size`."""
    def load():
        from common.paired import load_paired
        return load_paired(img_size=img_size, verbose=False)
    return load


# name: (module, class, constructor arguments, batch size, kind of reference
# step in FUSED). SRGAN at its class's defaults, Keras-GAN's size (64x64 crops,
# 16 residual blocks, batch 16) with the pixel content loss it trains with offline, and with the
# VGG19 content loss it trains with where VGG19's ImageNet weights can be had
# (random weights here: the same arithmetic); srgan-cpu is what `python
# srgan/srgan.py` trains by default (4 residual blocks, batch 4); srgan-small the small
# configuration of the earlier tables (32x32 crops, 4 residual blocks).
# pix2pix is what `python pix2pix/pix2pix.py` trains by default (64x64,
# 32 filters, G adding to its input, batch 4); pix2pix-keras-gan Keras-GAN's networks (256x256, 64
# filters, batch 1). cyclegan is what `python cyclegan/cyclegan.py` trains by
# default (Keras-GAN's networks on the 32x32 digits, the pool of 50, batch 4).
MODELS = {
    "gan": ("gan.gan", "GAN", {}, 32, "unconditional"),
    "dcgan": ("dcgan.dcgan", "DCGAN", {}, 32, "unconditional"),
    "cgan": ("cgan.cgan", "CGAN", {}, 32, "conditional"),
    "cgan-conv": ("cgan.cgan", "ConditionalDCGAN", {}, 32, "conditional"),
    "acgan": ("acgan.acgan", "ACGAN", {}, 32, "auxiliary_classifier"),
    "lsgan": ("lsgan.lsgan", "LSGAN", {}, 32, "least_squares"),
    "wgan": ("wgan.wgan", "WGAN", {}, 32, "wasserstein"),
    "wgan-gp": ("wgan_gp.wgan_gp", "WGANGP", {}, 32, "wasserstein"),
    "infogan": ("infogan.infogan", "INFOGAN", {}, 32, "information"),
    "srgan": ("srgan.srgan", "SRGAN", {"content_loss": "mse", "dataset": photos(64)},
              16, "super_resolution"),
    "srgan-vgg": ("srgan.srgan", "SRGAN", {"content_loss": "vgg", "vgg_weights": None,
                                           "dataset": photos(64)}, 16, "super_resolution"),
    "srgan-cpu": ("srgan.srgan", "SRGAN", {"n_residual_blocks": 4, "content_loss": "mse",
                                           "dataset": photos(64)}, 4, "super_resolution"),
    "srgan-small": ("srgan.srgan", "SRGAN", {"hr_shape": (32, 32, 3), "n_residual_blocks": 4,
                                             "content_loss": "mse", "dataset": photos(32)},
                    16, "super_resolution"),
    "pix2pix": ("pix2pix.pix2pix", "Pix2Pix", {"gf": 32, "df": 32, "input_skip": True,
                                               "dataset": pairs(64)}, 4, "pix2pix"),
    "pix2pix-keras-gan": ("pix2pix.pix2pix", "Pix2Pix", {"img_shape": (256, 256, 3),
                                                         "dataset": pairs(256)}, 1, "pix2pix"),
    "cyclegan": ("cyclegan.cyclegan", "CycleGAN", {"dataset": digits_task}, 4, "cyclegan"),
}


def default_interval(cls):
    """The sample interval of `cls.train()` when none is given."""
    return inspect.signature(cls.train).parameters["sample_interval"].default


def load_model_class(name):
    module, cls, *_ = MODELS[name]
    return getattr(importlib.import_module(module), cls)


# ---------------------------------------------------------------------------
# Counting and timing
# ---------------------------------------------------------------------------

def forward_flops(model, batch, input_shape=None):
    """2 * multiply-accumulates of the Dense and convolution layers of one
    forward pass over `batch` samples (element-wise work is not counted).
    A model that takes any image size (SRGAN's G) is counted at `input_shape`."""
    if any(dim is None for dim in model.inputs[0].shape[1:]):
        model = keras.models.clone_model(model, input_tensors=keras.Input(input_shape))
    total = 0
    for layer in private.all_layers(model):
        if isinstance(layer, keras.layers.Dense):
            kernel = layer.kernel.shape
            positions = int(np.prod(layer.input.shape[1:-1]))  # a Dense on a map acts per pixel
            total += 2 * kernel[0] * kernel[1] * positions * batch
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            kh, kw, cin, cout = layer.kernel.shape
            if isinstance(layer, keras.layers.Conv2DTranspose):
                h, w = layer.input.shape[1:3]  # each input pixel scatters a kernel
                cin, cout = cout, cin
                total += 2 * h * w * kh * kw * cin * cout * batch
            else:
                h, w = layer.output.shape[1:3]
                total += 2 * h * w * kh * kw * cin * cout * batch
    return total


def step_flops(gan, batch):
    """One recipe step: G forward for D's fake batch, two D training passes,
    one combined training pass (forward + backward = 3x forward). The
    Wasserstein GANs repeat the first two `n_critic` times (WGAN-GP's
    penalty, a third critic pass differentiated twice, is not counted).
    CycleGAN: both generators forward for D's batches, each D two training
    passes, and the combined training pass (each G six times: translation,
    cycle, identity; each D once)."""
    if hasattr(gan, "g_AB"):
        g, d = forward_flops(gan.g_AB, batch), forward_flops(gan.d_A, batch)
        return 2 * (g + 2 * 3 * d) + 3 * (6 * g + 2 * d)
    g = forward_flops(gan.generator, batch, getattr(gan, "lr_shape", None))
    d = forward_flops(gan.discriminator, batch)
    return getattr(gan, "n_critic", 1) * (g + 2 * 3 * d) + 3 * (g + d)


def matmul_rate(seconds=3.0, n=2048, dtype="float32"):
    """The matrix-multiply rate of this machine in `dtype` (FLOP/s), as the backend sees it."""
    a = keras.ops.cast(keras.random.normal((n, n), seed=0), dtype)
    b = keras.ops.cast(keras.random.normal((n, n), seed=1), dtype)

    def multiply():
        return float(keras.ops.convert_to_numpy(keras.ops.cast(keras.ops.matmul(a, b)[0, 0],
                                                               "float32")))

    multiply()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        multiply()
        count += 1
    return 2 * n ** 3 * count / (time.perf_counter() - start)


def device_name():
    gpu = None
    if BACKEND == "tensorflow" and tf.config.list_physical_devices("GPU"):
        gpus = tf.config.list_physical_devices("GPU")
        gpu = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    elif BACKEND == "jax":
        import jax
        gpu = jax.devices()[0].device_kind if jax.devices()[0].platform == "gpu" else None
    elif BACKEND == "torch":
        import torch
        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    if gpu:
        return f"GPU: {gpu}"
    name = precision.cpu_name()
    flags = ", ".join(flag.upper() for flag in precision.instruction_sets()) or "none of AVX-512"
    return f"CPU: {name}, {os.cpu_count()} cores ({flags})"


def build(cls, kwargs, out, precision_name="float32"):
    kwargs = {k: v() if callable(v) else v for k, v in kwargs.items()}
    return cls(out_dir=out, seed=0, precision=precision_name, **kwargs)


# The matrix-multiply rate a precision's rows are compared with.
_MATMUL_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


# The three ways of running a step. Each is built once, then called for a
# chunk of steps at a time, round-robin, so that all three see the same
# machine: on a shared 2-core machine speed drifts by 10% or more within a
# minute, and timing one variant after the other measured that drift. Each
# step's time includes drawing its batch, as `train()`'s loop does.

def _waited_for(step):
    """`step`, returning once its logs are computed (read back, as the fused
    step's are): `train()` leaves them on the device, and on a backend that
    dispatches asynchronously (JAX; any on a GPU) its loop would otherwise
    time the queuing of a step, not its computation."""
    def waited(*batch):
        logs = step(*batch)
        [float(keras.ops.convert_to_numpy(value)) for value in keras.tree.flatten(logs)]
        return logs
    return waited


class TrainRunner:
    """The model's own `train()`, warm steps timed inside its loop, each
    waited for (`_waited_for`); on a CPU on TensorFlow compiled with XLA or
    not, whichever is faster here (common/backends/tensorflow.py)."""

    def __init__(self, cls, kwargs, batch, out, precision_name="float32", jit_compile=None):
        self.gan, self.batch = build(cls, kwargs, out, precision_name), batch
        self.jit_compile = jit_compile
        self.other_seconds, self.eval_seconds, self.steps = 0.0, [], 0

    def chunk(self, steps):
        # Each call is a short run of its own, which saves after its first step:
        # its first two steps (the first one, and the one right after that save
        # has filled the caches with other data) are not counted, as in a real
        # run they are two of thousands.
        backend = backends.current()
        threshold = getattr(backend, "TIME_XLA_FROM_STEPS", None)
        if threshold is not None:  # a benchmark run is short: choose XLA as a long run would
            backend.TIME_XLA_FROM_STEPS = 0
        compiled_step = training.compiled_step
        training.compiled_step = lambda *args, **kwargs: _waited_for(compiled_step(*args,
                                                                                   **kwargs))
        try:
            self.gan.train(epochs=steps + 2, batch_size=self.batch, sample_interval=10 ** 9,
                           quiet=True, overwrite=True,  # each chunk a new run in one folder
                           jit_compile=self.jit_compile)
        finally:
            training.compiled_step = compiled_step
            if threshold is not None:
                backend.TIME_XLA_FROM_STEPS = threshold
        timing = run_state(self.gan).timing
        self.other_seconds += timing["other_seconds"]
        self.eval_seconds += timing["eval_seconds"]
        self.steps += steps + 2
        return timing["step_seconds"][2:]


class PlainRunner:
    """Keras-GAN's loop: each `train_on_batch` the real Keras call, D's
    trainable flag toggled around them as a naive Keras 3 port does."""

    def __init__(self, cls, kwargs, batch, out, precision_name="float32"):
        self.gan, self.batch = build(cls, kwargs, out, precision_name), batch
        self.module = sys.modules[cls.__module__]

    def chunk(self, steps):
        gan = self.gan
        ds = [gan.d_A, gan.d_B] if hasattr(gan, "d_A") else [gan.discriminator]

        def real_train_on_batch(model, x, y):
            # The toggle: D trainable for its steps (D itself, or a critic
            # model around it: WGAN's, WGAN-GP's), frozen for G's.
            for d in ds:
                d.trainable = model is not gan.combined
            if BACKEND == "torch":  # its train_on_batch refuses G's tensor beside an array
                # (Pix2Pix's D: [G(B), B]): all arrays, as Keras-GAN's `predict` gives them
                x = keras.tree.map_structure(keras.ops.convert_to_numpy, x)
            return model.train_on_batch(x, y, return_dict=True)

        original, self.module.train_on_batch = self.module.train_on_batch, real_train_on_batch
        try:
            times = []
            for _ in range(steps):
                start = time.perf_counter()
                gan.train_step(*gan.draw_batch(gan.rng, self.batch))
                times.append(time.perf_counter() - start)
        finally:
            self.module.train_on_batch = original
            for d in ds:
                d.trainable = True
        return times


class FusedRunner:
    """The hand-written reference step on this backend (FUSED)."""

    def __init__(self, cls, kwargs, batch, out, builder, precision_name="float32"):
        self.gan, self.batch = build(cls, kwargs, out, precision_name), batch
        self.step = builder(self.gan)

    def chunk(self, steps):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            logs = self.step(*self.gan.draw_batch(self.gan.rng, self.batch))
            [float(value) for value in keras.tree.flatten(logs)]  # as train() reads its logs
            times.append(time.perf_counter() - start)
        return times


def time_interleaved(runners, steps, warmup, rounds):
    """Median seconds per warm step of each runner, run in `rounds` chunks."""
    for runner in runners.values():
        runner.chunk(warmup)  # tracing, compiling, XLA's choice
    times = {name: [] for name in runners}
    per_round = max(1, -(-steps // rounds))
    for _ in range(rounds):
        for name, runner in runners.items():
            times[name] += runner.chunk(per_round)
    return {name: float(np.median(t)) for name, t in times.items()}


def overhead(runner, step_s, interval, out, history_rows=30000):
    """What `train()` adds to its steps at the sample interval `interval`, as
    fractions of training time: the save at each interval as
    `common.training.fit` does it (sample grid, history.csv, loss plot of a
    history as long as a 30,000-step run's, generator, checkpoint), the
    evaluation a model runs at each interval (SRGAN's PSNR/SSIM), and the
    loop's own bookkeeping at every step."""
    history = History(out)
    history.rows = [{"step": i, "d_loss": 0.5, "g_loss": 1.0, "d_acc": 0.5}
                    for i in range(history_rows)]
    history.columns = ["step", "d_loss", "g_loss", "d_acc"]
    snapshots = training.Snapshots(runner.gan, history)
    for i in range(4):
        snapshots.save(i)
    interval_s = interval * step_s
    return {"save": float(np.median(snapshots.seconds)) / interval_s,
            "eval": float(np.median(runner.eval_seconds or [0.0])) / interval_s,
            "loop": runner.other_seconds / runner.steps / step_s}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated, from: " + ", ".join(MODELS))
    parser.add_argument("--precisions", default="float32",
                        help="comma-separated, from: " + ", ".join(PRECISIONS[1:]) +
                             "; each model runs in each, alternated in the same rounds")
    here = [v for v in VARIANTS if v != "eager" or BACKEND != "tensorflow"]
    parser.add_argument("--variants", default=",".join(here),
                        help="comma-separated, from: " + ", ".join(here) +
                             " (train alone is enough to compare precisions)")
    parser.add_argument("--steps", type=int, default=20, help="timed warm steps per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the timed steps run in this many chunks per variant, round-robin")
    parser.add_argument("--out", default=os.path.join(REPO, "benchmarks"),
                        help="folder for results.md and results.csv")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}; choose from {', '.join(MODELS)}")
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    unknown = [p for p in precisions if p not in PRECISIONS[1:]]
    if unknown:
        parser.error(f"unknown precision {unknown[0]!r}; choose from {', '.join(PRECISIONS[1:])}")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if "train" not in variants or any(v not in VARIANTS for v in variants):
        parser.error(f"--variants: train and any of {', '.join(VARIANTS[1:])}")
    if "eager" in variants and BACKEND == "tensorflow":
        parser.error("--variants eager: on TensorFlow jit_compile=False is still a tf.function "
                     "(without XLA); the eager column is JAX's and PyTorch's")
    for name in precisions:  # one that would fall back to float32 measures nothing
        supported, why = precision.hardware_support(name)
        if not supported:
            parser.error(f"--precisions {name}: {why}")

    device = device_name()
    versions = library_versions()
    print(f"Device: {device}; {versions}")
    rates = {}
    for name in precisions:
        dtype = _MATMUL_DTYPE[name]
        rates[name] = matmul_rate(dtype=dtype)
        print(f"{dtype} matmul (2048x2048): {rates[name] / 1e9:.0f} GFLOP/s")
    rows = []
    for name in names:
        module, cls_name, kwargs, batch, kind = MODELS[name]
        try:
            cls = load_model_class(name)
        except (ImportError, AttributeError) as error:
            print(f"{name}: skipped ({error})")
            continue
        interval = default_interval(cls)
        builder = FUSED[BACKEND].get(kind)
        with tempfile.TemporaryDirectory() as out:
            runners = {}
            for p in precisions:  # all of them alternated in the same rounds
                folder = os.path.join(out, p)
                runners[p, "train"] = TrainRunner(cls, kwargs, batch,
                                                  os.path.join(folder, "train"), p)
                if "eager" in variants:
                    runners[p, "eager"] = TrainRunner(cls, kwargs, batch,
                                                      os.path.join(folder, "eager"), p,
                                                      jit_compile=False)
                if "plain" in variants:
                    runners[p, "plain"] = PlainRunner(cls, kwargs, batch,
                                                      os.path.join(folder, "plain"), p)
                if "fused" in variants and builder is not None:
                    runners[p, "fused"] = FusedRunner(cls, kwargs, batch,
                                                      os.path.join(folder, "fused"), builder, p)
            seconds = time_interleaved(runners, args.steps, args.warmup, args.rounds)
            for p in precisions:
                train_s = seconds[p, "train"]
                plain_s, fused_s = seconds.get((p, "plain")), seconds.get((p, "fused"))
                eager_s = seconds.get((p, "eager"))
                costs = overhead(runners[p, "train"], train_s, interval, os.path.join(out, p))
                flops = step_flops(runners[p, "train"].gan, batch)
                rows.append(_row(device, versions, name, p, batch, train_s, plain_s, fused_s,
                                 seconds[precisions[0], "train"], flops, rates[p], interval, costs,
                                 eager_s))
                print(_line(rows[-1], precisions[0]))
    write_tables(rows, args.out, device, versions, rates)
    return rows


VARIANTS = ("train", "eager", "plain", "fused")


def _ratio(a, b):
    return a / b if a is not None and b is not None else None


def _row(device, versions, name, precision_name, batch, train_s, plain_s, fused_s, first_train_s,
         flops, rate, interval, costs, eager_s=None):
    ms = (lambda seconds: None if seconds is None else 1e3 * seconds)
    return {
        "backend": BACKEND, "model": name, "precision": precision_name, "batch": batch,
        "train_ms": ms(train_s), "eager_ms": ms(eager_s), "plain_ms": ms(plain_s),
        "fused_ms": ms(fused_s),
        # how much faster train() runs than in the first precision listed (float32)
        "train_speedup": first_train_s / train_s,
        "train_vs_fused": _ratio(fused_s, train_s), "train_vs_plain": _ratio(plain_s, train_s),
        "train_vs_eager": _ratio(eager_s, train_s),
        "gflop_per_step": flops / 1e9,
        "train_matmul_fraction": flops / train_s / rate,
        "fused_matmul_fraction": _ratio(flops / rate, fused_s),
        "sample_interval": interval,
        "save_pct": 100 * costs["save"], "eval_pct": 100 * costs["eval"],
        "loop_pct": 100 * costs["loop"], "overhead_pct": 100 * sum(costs.values()),
        "device": device, "versions": versions, "matmul_gflops": round(rate / 1e9),
    }


def _show(value, form, suffix=""):
    return "-" if value is None else f"{value:{form}}{suffix}"


def _line(row, first):
    return (f"{row['backend']} {row['model']:9s} {row['precision']:14s} train() {row['train_ms']:7.1f} ms/step "
            f"({row['train_speedup']:.2f}x {first}) | eager {_show(row['eager_ms'], '7.1f')} | "
            f"plain {_show(row['plain_ms'], '7.1f')} | "
            f"fused {_show(row['fused_ms'], '7.1f')} | train/fused speed "
            f"{_show(row['train_vs_fused'], '.2f', 'x')}, train/eager "
            f"{_show(row['train_vs_eager'], '.2f', 'x')}, train/plain "
            f"{_show(row['train_vs_plain'], '.2f', 'x')} | {row['gflop_per_step']:.2f} GFLOP/step, "
            f"{100 * row['train_matmul_fraction']:.0f}% of matmul rate | around the steps at "
            f"sample interval {row['sample_interval']}: {row['overhead_pct']:.1f}% of training "
            f"time (saving {row['save_pct']:.1f}%, evaluation {row['eval_pct']:.1f}%, loop "
            f"{row['loop_pct']:.1f}%)")


def library_versions():
    backend = importlib.import_module(BACKEND)
    return f"Keras {keras.__version__} on {BACKEND} {backend.__version__}"


def _number(value):
    """A value of a row, or of a row read back from results.csv (text)."""
    if not isinstance(value, str):
        return value
    if value in ("", "None"):
        return None
    try:
        return float(value)
    except ValueError:
        return value


def write_tables(rows, folder, device, versions, rates):
    """results.csv: these rows, and the rows of other backends already there
    (a run per backend fills the table); results.md: the same as a table."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "results.csv")
    kept = []
    if os.path.isfile(path):
        with open(path, newline="") as handle:
            kept = [row for row in csv.DictReader(handle)
                    if row.get("backend") and row["backend"] != BACKEND]
    rows = kept + [{k: str(v) for k, v in row.items()} for row in rows]
    fields = list(rows[-1]) if rows else ["backend", "model"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| backend | model | precision | batch | train() ms/step | vs the first precision | "
             "plain loop ms/step | fused ms/step | train() speed vs fused | vs plain | "
             "vs eager | GFLOP/step | train() % of matmul rate | sample interval | "
             "sampling, saving, evaluation % |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        r = {k: _number(v) for k, v in r.items()}
        lines.append(f"| {r['backend']} | {r['model']} | {r['precision']} | {r['batch']:.0f} | "
                     f"{r['train_ms']:.1f} | {r['train_speedup']:.2f}x | "
                     f"{_show(r['plain_ms'], '.1f')} | {_show(r['fused_ms'], '.1f')} | "
                     f"{_show(r['train_vs_fused'], '.2f', 'x')} | "
                     f"{_show(r['train_vs_plain'], '.2f', 'x')} | "
                     f"{_show(r.get('train_vs_eager'), '.2f', 'x')} | {r['gflop_per_step']:.2f} | "
                     f"{100 * r['train_matmul_fraction']:.0f}% | {r['sample_interval']:.0f} | "
                     f"{r['overhead_pct']:.1f}% |")
    machines = sorted({(r["backend"], r["device"], r["versions"], str(r["matmul_gflops"]))
                       for r in rows})
    lines += [""] + [f"- {b}: {d}; matmul GFLOP/s {g}; {v}" for b, d, v, g in machines]
    with open(os.path.join(folder, "results.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
