"""Each model's compiled training step is Keras-GAN's recipe, on every backend.

For every model, the step `train()` runs (`compiled_step(gan)` on the arrays
`gan.draw_batch` draws) is held, over five steps, against Keras-GAN's loop
typed out again with Keras-GAN's own numbers (tests/keras_gan_reference.py):
three real `train_on_batch` calls, D on real images, D on generated ones, the
combined model on noise. Both start from the same weights and draw the same
dropout masks, so only the recipe can differ. Five steps go past Adam's first
update, which is about lr * sign(gradient) whatever the loss weights and
labels: from the second on, a changed learning rate, Adam beta, BatchNorm
momentum, LeakyReLU slope, dropout rate, label value or loss weight, or other
images or labels shown to D, moves the losses, the weights, the optimizers'
moments or the BatchNorm moving statistics away from the reference's.

The networks are the models' own, built by their own classes, at a small
batch; SRGAN's generator with 2 of its residual blocks rather than 16 (the
blocks are alike; 16 take a minute to trace). On TensorFlow and JAX both
sides compute in float64: in float32 a compiled step and separate calls
differ by float noise of about 1e-7, and Adam, which divides each gradient by
its own size, turns that into steps of up to the learning rate for weights
whose gradient is nearly zero; over five steps that noise outgrows what a
small change of a recipe number does. PyTorch stays in float32 (its float64
convolutions fail in backward: "slow_conv2d: grad_weight must be
contiguous"), where the recorded step replays the reference's very operations.
"""
import keras
import numpy as np
import pytest
from keras import layers

import keras_gan_reference as keras_gan
from acgan.acgan import ACGAN
from cgan.cgan import CGAN, ConditionalDCGAN
from common import private
from common.data import ArrayImages
from common.photos import HighResPhotos
from common.training import compiled_step
from dcgan.dcgan import DCGAN
from gan.gan import GAN
from srgan.srgan import SRGAN

STEPS = 5
# The largest relative difference (`relative_difference`) allowed in each
# step's losses, and in the state after the second and after the last step.
# Float noise measured here: TensorFlow in float64 below 1e-12; PyTorch 0 in
# the state (the recorded step replays the very operations the reference
# runs) and 5e-8 in the losses (Keras' loss trackers are float32). JAX, in
# float64 too, computes the whole step as one fused XLA program whose
# elementwise functions are not those of the reference's separate calls:
# 1e-7 in the first step's losses, growing to 5e-4 by the fifth, 2e-3 in the
# state after two steps, and 0.14 after five in SRGAN's D (its biases before
# a LeakyReLU and a BatchNorm have nearly zero gradient, which Adam scales
# up). A changed recipe number moves the first losses or the state after two
# steps by 1e-3 or more.
if keras.backend.backend() == "jax":
    LOGS_TOLERANCE, STATE_TOLERANCE = [1e-5, 1e-5, 1e-5, 1e-4, 5e-3], [2e-2, 0.5]
else:
    LOGS_TOLERANCE, STATE_TOLERANCE = [1e-6] * STEPS, [1e-6, 1e-6]


def synthetic_photo(seed, size=(48, 48)):
    """A smooth random colour photo, uint8."""
    from PIL import Image
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[0] // 8, size[1] // 8, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize((size[1], size[0]), Image.BICUBIC))


def digits(mnist):
    images, labels = mnist
    return images[:256], labels[:256]


# model name -> (the zoo's model, Keras-GAN's recipe, batch size)
RECIPES = {
    "GAN": (lambda mnist, out: GAN(dataset=ArrayImages(digits(mnist)[0]), out_dir=out, seed=1),
            keras_gan.GAN, 8),
    "DCGAN": (lambda mnist, out: DCGAN(dataset=ArrayImages(digits(mnist)[0]), out_dir=out,
                                       seed=1),
              keras_gan.DCGAN, 8),
    "CGAN": (lambda mnist, out: CGAN(dataset=digits(mnist), out_dir=out, seed=1),
             keras_gan.CGAN, 8),
    "ConditionalDCGAN": (lambda mnist, out: ConditionalDCGAN(dataset=digits(mnist), out_dir=out,
                                                             seed=1),
                         keras_gan.ConditionalDCGAN, 8),
    "ACGAN": (lambda mnist, out: ACGAN(dataset=digits(mnist), out_dir=out, seed=1),
              keras_gan.ACGAN, 8),
    "SRGAN": (lambda mnist, out: SRGAN(
        hr_shape=(32, 32, 3), n_residual_blocks=2, content_loss="mse", out_dir=out, seed=1,
        dataset=HighResPhotos([synthetic_photo(i) for i in range(4)], [synthetic_photo(9)],
                              hr_size=32)),
              lambda: keras_gan.SRGAN(hr_shape=(32, 32, 3), n_residual_blocks=2), 4),
}


def dropout_layers(model):
    return [layer for layer in private.all_layers(model, include_self=True) if isinstance(layer, layers.Dropout)]


def biases_before_batchnorm(model):
    """The biases of the layers whose output goes straight into a
    BatchNormalization. BatchNorm subtracts the batch mean again, so their
    gradient is zero in exact arithmetic and float noise in practice, which
    Adam scales up into steps of either sign: two correct ways of computing
    one update move them differently. Nothing the networks compute in
    training mode depends on them (`assert_same_outputs` checks that)."""
    biases = []
    for layer in private.all_layers(model, include_self=True):
        if isinstance(layer, layers.BatchNormalization):
            for node in private.inbound_nodes(layer):
                for parent in node.parent_nodes:
                    bias = getattr(parent.operation, "bias", None)
                    if bias is not None:
                        biases.append(bias)
    return biases


@pytest.fixture
def float64():
    """Models built from here on hold and compute float64 (JAX only with x64
    on), on TensorFlow and JAX (see the module's docstring). Keras keeps
    the default layer policy once it was read (a model loaded earlier in this
    process reads it): both the float type and that policy change."""
    backend, previous = keras.backend.backend(), keras.config.floatx()
    previous_policy = keras.config.dtype_policy()
    if backend != "torch":
        keras.config.set_floatx("float64")
        keras.config.set_dtype_policy("float64")
    if backend == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
    yield
    keras.config.set_floatx(previous)
    keras.config.set_dtype_policy(previous_policy)
    if backend == "jax":
        jax.config.update("jax_enable_x64", False)


def in_float64(gan):
    """`gan` computing in float64 with the float64 weights it was built with
    (`use_precision` gave its layers the float32 policy)."""
    if keras.config.floatx() == "float64":
        for model in (gan.generator, gan.discriminator):
            for layer in private.all_layers(model, include_self=True):
                layer.dtype_policy = "float64"
    return gan


def start_alike(gan, reference):
    """The reference gets the model's initial weights and dropout seeds, and
    runs its `train_on_batch` eagerly: Keras-GAN's loop, call by call."""
    for ours, theirs in [(gan.generator, reference.generator),
                         (gan.discriminator, reference.discriminator)]:
        assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
        theirs.set_weights(ours.get_weights())
        for mine, other in zip(dropout_layers(ours), dropout_layers(theirs), strict=True):
            other.seed_generator.state.assign(mine.seed_generator.state.numpy())
            if keras.backend.backend() == "torch":
                # Keras' unseeded Dropout draws from torch's global generator
                # there, which Keras' own first train_on_batch calls also draw
                # from: the two sides cannot draw the same masks.
                mine.rate = other.rate = 0.0
    for model in (reference.generator, reference.discriminator, reference.combined):
        model.run_eagerly = True


def state(side, initial):
    """What training changed, in groups: G's and D's weight changes from
    `initial` (the biases before a BatchNorm aside), their BatchNorm moving
    statistics, their dropout seeds, and per optimizer its step count and
    learning rate, and its first and second moments (of the weights compared).
    Each group is one vector: float noise on the few values whose gradient
    is nearly zero (biases before a LeakyReLU and a BatchNorm) stays small
    in it, while a changed recipe number moves a whole layer."""
    groups, skipped = {}, set()
    for model in (side.generator, side.discriminator):
        before = biases_before_batchnorm(model)
        role = "G" if model is side.generator else "D"
        for i, weight in enumerate(model.weights):
            if any(weight is bias for bias in before):
                skipped.add(weight.path.replace("/", "_"))
                continue
            kind = "moving statistics" if "moving" in weight.path else "weight changes"
            groups.setdefault(f"{role}'s {kind}", []).append(
                weight.numpy() - initial[model.name][i])
        for layer in dropout_layers(model):
            groups.setdefault(f"{role}'s dropout seeds", []).append(
                layer.seed_generator.state.numpy())
    for model in (side.discriminator, side.combined):
        role = "D" if model is side.discriminator else "G"
        for variable in model.optimizer.variables:
            name = variable.path.split("/", 1)[-1]
            kind = name.rsplit("_", 1)[-1]
            if kind not in ("momentum", "velocity"):
                kind = "step count and learning rate"
            elif name.rsplit("_", 1)[0] in skipped:
                continue
            groups.setdefault(f"{role}'s Adam {kind}", []).append(variable.numpy())
    return {name: np.concatenate([np.ravel(v).astype("float64") for v in values])
            for name, values in groups.items()}


def compiled(gan):
    """The step `train()` compiles. On TensorFlow without XLA (its choice for
    these networks on a CPU is a matter of speed): XLA draws other dropout
    masks than the reference's eager calls, and takes seconds more to compile."""
    return compiled_step(gan, jit_compile=False if keras.backend.backend() == "tensorflow"
                         else None)


def train_both(name, mnist, tmp_path):
    """Five steps of the zoo's compiled step and of Keras-GAN's loop on the
    same batches; returns each step's (our logs, the reference's logs) and
    (our state, the reference's) after the second step and after the last."""
    build, recipe, batch_size = RECIPES[name]
    gan = in_float64(build(mnist, str(tmp_path)))
    reference = recipe()
    start_alike(gan, reference)
    initial = {model.name: [w.numpy().copy() for w in model.weights]
               for model in (gan.generator, gan.discriminator)}
    renamed = {reference.generator.name: initial[gan.generator.name],
               reference.discriminator.name: initial[gan.discriminator.name]}
    step = compiled(gan)
    rng = np.random.default_rng(0)
    logs, states = [], []
    for i in range(STEPS):
        batch = gan.draw_batch(rng, batch_size)
        if isinstance(gan, SRGAN):
            *batch, pretraining = batch
            assert not pretraining  # every step a GAN step
        ours = step(*batch)
        theirs = reference.train_step(*batch)
        logs.append(({k: float(ours[k]) for k in theirs}, {k: float(v) for k, v in theirs.items()}))
        if i in (1, STEPS - 1):
            states.append((state(gan, initial), state(reference, renamed)))
    return gan, reference, logs, states


def relative_difference(ours, theirs):
    """|ours - theirs| / |theirs| (Euclidean norms): a changed recipe number
    moves a whole tensor, float noise a few of its values."""
    ours, theirs = np.asarray(ours, "float64").ravel(), np.asarray(theirs, "float64").ravel()
    size = np.linalg.norm(theirs)
    return float(np.linalg.norm(ours - theirs) / size) if size else float(np.abs(ours).max())


@pytest.mark.parametrize("name", list(RECIPES))
def test_compiled_step_equals_keras_gan_loop_over_five_steps(name, mnist, tmp_path, float64):
    gan, reference, logs, states = train_both(name, mnist, tmp_path)
    for step, (ours, theirs) in enumerate(logs):
        for log in theirs:
            assert relative_difference(ours[log], theirs[log]) < LOGS_TOLERANCE[step], \
                f"step {step}: {log} {ours[log]} (Keras-GAN: {theirs[log]})"
    for after, tolerance, (ours, theirs) in zip((2, STEPS), STATE_TOLERANCE, states):
        assert ours.keys() == theirs.keys()
        for what in ours:
            difference = relative_difference(ours[what], theirs[what])
            assert difference < tolerance, f"after {after} steps, {what}: {difference:.2g} apart"
