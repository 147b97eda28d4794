"""The promises every Keras backend keeps: run this file under each of them,

    KERAS_BACKEND=jax python -m pytest tests/test_backends.py -q
    KERAS_BACKEND=torch python -m pytest tests/test_backends.py -q

(and under TensorFlow, the default, with the rest of the suite). The frozen-D
contract through the class API (D learns in its own step; the combined step
trains G alone, D's weights and BatchNorm statistics untouched, D normalising
with the batch's statistics in it), the compiled step equal to Keras-GAN's
calls and seeing D's new weights after D changed (on PyTorch: the recorded
step bit for bit the eager one, and a step that cannot be recorded run
eagerly after one note), the flags a backend cannot
honour refused in one sentence; mixed precision (bfloat16 trains, keeps the
contract and saves a float32 generator; float16 without the instructions is
float32). The image-to-image models (Pix2Pix, CycleGAN with its two
generators and two discriminators) keep the same promises, checked here on
every backend, TensorFlow included. The tests marked slow start a process on
another backend: saved generators (every model's) and checkpoints cross
backends, and on JAX two devices train as one, in float32 and in bfloat16.
"""
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from common import backends, precision, private
from common.data import ArrayImages
from common.frozen import FrozenDiscriminator
from common.training import compiled_step
from conftest import REPO, call_main, changed, snapshot, without_dropout
from cyclegan.cyclegan import CycleGAN
from pix2pix.pix2pix import Pix2Pix
from tiny import (TinyACGAN, TinyCGAN, TinyConditionalDCGAN, TinyCycleGAN, TinyDCGAN, TinyGAN,
                  TinyPix2Pix, paired_photos, unpaired_images)

BACKEND = backends.name()
MODELS = [TinyGAN, TinyDCGAN, TinyCGAN, TinyConditionalDCGAN, TinyACGAN]
# An image in, an image of the same size out; CycleGAN with two generators and
# two discriminators.
IMAGE_TO_IMAGE = [TinyPix2Pix, TinyCycleGAN]


def random_images(n=64, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype("float32")


def make(cls, tmp_path, seed=0, **options):
    if issubclass(cls, (Pix2Pix, CycleGAN)):
        dataset = paired_photos() if issubclass(cls, Pix2Pix) else unpaired_images()
        return cls(dataset=dataset, out_dir=str(tmp_path), seed=seed, **options)
    images = random_images()
    labels = np.random.default_rng(1).integers(0, 10, len(images)).astype("int64")
    dataset = ArrayImages(images) if issubclass(cls, (TinyGAN, TinyDCGAN)) else (images, labels)
    return cls(dataset=dataset, out_dir=str(tmp_path), seed=seed, **options)


def generators(gan):
    """The networks the combined model trains: G, or CycleGAN's g_AB and g_BA."""
    return [gan.g_AB, gan.g_BA] if isinstance(gan, CycleGAN) else [gan.generator]


def discriminators(gan):
    """The networks the combined model holds frozen: D, or CycleGAN's d_A and d_B."""
    return [gan.d_A, gan.d_B] if isinstance(gan, CycleGAN) else [gan.discriminator]


def weights_of(models, trainable=False):
    """The weights (or trainable weights) of `models`, one list."""
    return [v for model in models
            for v in (model.trainable_weights if trainable else model.weights)]


def inputs_for(model, n, seed):
    """Random arrays for each input of `model`: noise or images, and class labels."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 10, (n, *t.shape[1:])).astype("int32") if "int" in t.dtype
              else rng.normal(size=(n, *t.shape[1:])).astype("float32") for t in model.inputs]
    return arrays if len(arrays) > 1 else arrays[0]


def targets_for(model, n, value, seed=0):
    """`value` for each real/fake output of `model` (one score, or a score per
    patch), class labels for a class head, images for an image output (the
    image-to-image models' L1 targets: Pix2Pix's A, CycleGAN's cycles and
    identities)."""
    rng = np.random.default_rng(seed)
    targets = [np.full((n, *t.shape[1:]), value, "float32") if t.shape[-1] == 1
               else rng.uniform(-1, 1, (n, *t.shape[1:])).astype("float32") if len(t.shape) == 4
               else (np.arange(n) % t.shape[-1]).reshape(-1, 1).astype("int32")
               for t in model.outputs]
    return targets if len(targets) > 1 else targets[0]


# On TensorFlow the five first models' own test files check these
# (test_gan_dcgan.py ...); the image-to-image models' are checked here alone.
on_other_backends = pytest.mark.skipif(BACKEND == "tensorflow",
                                       reason="each model's own tests check it on TensorFlow")
EVERY_MODEL = [pytest.param(cls, marks=on_other_backends) for cls in MODELS] + IMAGE_TO_IMAGE


@pytest.mark.parametrize("cls", EVERY_MODEL, ids=lambda cls: cls.__name__)
def test_d_learns_in_its_own_step_and_the_combined_step_trains_g_alone(cls, tmp_path):
    gan = make(cls, tmp_path)
    ds, gs = discriminators(gan), generators(gan)
    for model in ds + [gan.combined]:
        model.run_eagerly = True  # Keras' own train step, untraced (tracing takes seconds)
    held = [layer.discriminator for layer in private.all_layers(gan.combined)
            if isinstance(layer, FrozenDiscriminator)]
    assert sorted(id(d) for d in held) == sorted(id(d) for d in ds)  # every D, frozen
    assert {id(v) for v in gan.combined.trainable_weights} == \
        {id(v) for v in weights_of(gs, trainable=True)}
    for d in ds:
        d_trainable = snapshot(d.trainable_weights)
        d.train_on_batch(inputs_for(d, 16, 0), targets_for(d, 16, 1.0))
        assert len(changed(d_trainable, d.trainable_weights)) == len(d_trainable), d.name
    d_before = snapshot(weights_of(ds))  # kernels and BatchNorm moving statistics
    g_before = snapshot(weights_of(gs, trainable=True))
    for seed in (1, 2):
        gan.combined.train_on_batch(inputs_for(gan.combined, 16, seed),
                                    targets_for(gan.combined, 16, 1.0, seed))
    assert changed(d_before, weights_of(ds)) == []
    assert len(changed(g_before, weights_of(gs, trainable=True))) == len(g_before)
    for d in ds:  # and each D still learns
        before = snapshot(d.trainable_weights)
        d.train_on_batch(inputs_for(d, 16, 3), targets_for(d, 16, 0.0))
        assert changed(before, d.trainable_weights), d.name


# The frozen layer is one class for every model (common/frozen.py): DCGAN's D,
# with BatchNorm and Dropout, shows it. (Pix2Pix's D holds BatchNorm too: the
# test above finds its moving statistics untouched by the combined step;
# CycleGAN's instance normalisation keeps no statistics.)
def test_frozen_d_normalises_with_the_batch_statistics_and_keeps_its_own(tmp_path):
    gan = make(TinyDCGAN, tmp_path)
    d = gan.discriminator
    without_dropout(d)  # so that training mode differs by BatchNorm alone
    frozen_d = next(layer for layer in gan.combined.layers if "frozen" in layer.name)
    images = random_images(16, seed=5)
    before = snapshot(d.weights)
    as_in_training = keras.ops.convert_to_numpy(frozen_d(images, training=True))
    assert changed(before, d.weights) == []  # the moving statistics stayed
    np.testing.assert_allclose(as_in_training, keras.ops.convert_to_numpy(d(images, training=True)),
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(as_in_training, keras.ops.convert_to_numpy(d(images, training=False)),
                           atol=1e-4)


def _keras_gan_step(gan, *batch):
    """One step of Keras-GAN's loop for DCGAN, Pix2Pix or CycleGAN, call by call."""
    if isinstance(gan, CycleGAN):
        imgs_A, imgs_B, draws_A, draws_B = batch
        valid, fake = (np.full((len(imgs_A),) + gan.disc_patch, v) for v in (1.0, 0.0))
        fake_B = gan.g_AB.predict(imgs_A, verbose=0)
        fake_A = gan.g_BA.predict(imgs_B, verbose=0)
        # the paper's pool (tests/test_cyclegan.py holds it against its query)
        fake_A, fake_B = gan.pool_A.query(fake_A, draws_A), gan.pool_B.query(fake_B, draws_B)
        for d, real, generated in ((gan.d_A, imgs_A, fake_A), (gan.d_B, imgs_B, fake_B)):
            d.train_on_batch(real, valid)
            d.train_on_batch(generated, fake)
        gan.combined.train_on_batch([imgs_A, imgs_B],
                                    [valid, valid, imgs_A, imgs_B, imgs_A, imgs_B])
    elif isinstance(gan, Pix2Pix):
        imgs_A, imgs_B = batch
        valid, fake = (np.full((len(imgs_A),) + gan.disc_patch, v) for v in (1.0, 0.0))
        fake_A = gan.generator.predict(imgs_B, verbose=0)
        gan.discriminator.train_on_batch([imgs_A, imgs_B], valid)
        gan.discriminator.train_on_batch([fake_A, imgs_B], fake)
        gan.combined.train_on_batch(imgs_B, [valid, imgs_A])
    else:
        imgs, noise = batch
        gen_imgs = gan.generator.predict(noise, verbose=0)
        gan.discriminator.train_on_batch(imgs, np.ones((len(imgs), 1)))
        gan.discriminator.train_on_batch(gen_imgs, np.zeros((len(imgs), 1)))
        gan.combined.train_on_batch(noise, np.ones((len(imgs), 1)))


def _shake(model, seed):
    """Give `model` new weights, as many D steps would (the same for the same seed)."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_weights:
        value = variable.numpy()
        variable.assign(value + 0.3 * rng.normal(size=value.shape).astype(value.dtype))


@pytest.mark.parametrize("cls", [TinyDCGAN] + IMAGE_TO_IMAGE, ids=lambda cls: cls.__name__)
def test_compiled_step_is_keras_gan_loop_and_sees_the_new_d(cls, tmp_path):
    """The hazard of compiled functional code: D's variables are not the combined
    model's, so a compiled combined step could hold D's first weights as
    constants and train G against that D for good, with no error. CycleGAN
    has two Ds: g_AB learns from d_B alone, g_BA from d_A alone, so each
    generator's update shows whether the step saw its D's new weights."""
    fused, explicit, unshaken = (make(cls, tmp_path, seed=3) for _ in range(3))
    for gan in (explicit, unshaken):
        for model in generators(gan) + discriminators(gan) + [gan.combined]:
            model.run_eagerly = True  # Keras-GAN's calls one by one (tracing them takes seconds)
    if BACKEND == "torch":
        # Keras' Dropout draws its masks from torch's global generator on
        # PyTorch, and Keras' own train_on_batch draws from it too while it
        # builds a model: the explicit calls would see other masks.
        for gan in (fused, explicit, unshaken):
            for d in discriminators(gan):
                without_dropout(d)
    rng = np.random.default_rng(0)
    batches = [fused.draw_batch(rng, 4) for _ in range(2)]
    runs = [(fused, compiled_step(fused))] + [
        (gan, lambda *batch, gan=gan: _keras_gan_step(gan, *batch)) for gan in (explicit, unshaken)]
    for i, batch in enumerate(batches):
        if i == 1:
            for gan in (fused, explicit):  # D changes between two compiled steps...
                for seed, d in enumerate(discriminators(gan), start=7):
                    _shake(d, seed)
        for gan, run in runs:
            # Dropout draws from the global random state on PyTorch: the same for each run.
            keras.utils.set_random_seed(100 + i)
            run(*batch)
    # ...and G's update in the next step is the one against the new D.
    networks = lambda gan: generators(gan) + discriminators(gan)  # noqa: E731
    # Adam divides a gradient by its own size: where one is near zero, float32
    # rounding moves that weight by a share of the learning rate (TinyCycleGAN
    # on JAX: 1.4e-5 on one bias of 8, against 2e-4 a step).
    for a, b in zip(weights_of(networks(fused)), weights_of(networks(explicit)), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=5e-5, err_msg=a.path)
    # Against the old D it would have been another update (Keras-GAN's calls
    # on the unshaken D show which), by far more than the rounding that
    # separates the compiled step from the explicit calls.
    def largest_difference(one, other):
        return max(np.abs(a.numpy() - b.numpy()).max()
                   for a, b in zip(one.trainable_weights, other.trainable_weights))
    for ours, right, stale in zip(generators(fused), generators(explicit), generators(unshaken)):
        assert largest_difference(ours, stale) > 10 * largest_difference(ours, right), ours.name


@pytest.mark.parametrize("compile_again", [True, False], ids=["compiled-again", "as-is"])
def test_a_layer_frozen_between_two_compiled_steps_stays_put(compile_again, tmp_path):
    """A compiled step (tf.function, jax.jit, PyTorch's recording) holds the
    weights it trained when compiled: freezing a layer afterwards, and compiling
    the model again as Keras asks, compiles the step again. (On JAX Keras'
    optimizer refuses another set of weights until the model is compiled
    again: an error, nothing trained.)"""
    gan = make(TinyGAN, tmp_path)
    rng = np.random.default_rng(0)
    compiled_step(gan)(*gan.draw_batch(rng, 8))
    layer = next(layer for layer in private.all_layers(gan.generator)
                 if isinstance(layer, keras.layers.Dense))
    layer.trainable = False
    if compile_again:
        gan.combined.compile(loss="binary_crossentropy",
                             optimizer=keras.optimizers.Adam(0.0002, 0.5))
    frozen_before, others_before = snapshot(layer.weights), snapshot(gan.generator.trainable_weights)
    if BACKEND == "jax" and not compile_again:  # Keras' optimizer refuses, trains nothing
        with pytest.raises(ValueError, match="the optimizer was built with"):
            compiled_step(gan)(*gan.draw_batch(rng, 8))
        assert not changed(others_before, gan.generator.trainable_weights)
        return
    compiled_step(gan)(*gan.draw_batch(rng, 8))
    assert not changed(frozen_before, layer.weights)
    assert len(changed(others_before, gan.generator.trainable_weights)) == len(others_before)


# (Pix2Pix and CycleGAN: their own test files, run under each backend, train
# them with train(), check the files and resume them.)
def test_train_writes_and_resumes_on_this_backend(tmp_path):
    gan = make(TinyDCGAN, tmp_path)
    gan.train(epochs=2, batch_size=8, sample_interval=1, quiet=True)
    again = make(TinyDCGAN, tmp_path, seed=1)
    again.train(epochs=3, batch_size=8, sample_interval=1, quiet=True, resume=True)
    assert sorted(os.listdir(tmp_path / "images")) == ["mnist_0.png", "mnist_1.png",
                                                      "mnist_2.png"]
    assert os.path.isfile(tmp_path / "samples.gif") and os.path.isfile(tmp_path / "losses.png")
    generator = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    noise = np.random.default_rng(2).normal(size=(3, gan.latent_dim)).astype("float32")
    np.testing.assert_allclose(generator.predict(noise, verbose=0),
                               again.generator.predict(noise, verbose=0), atol=1e-5)


on_pytorch = pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's recorded step")


def _count_recordings(monkeypatch):
    from common.backends import torch as torch_backend
    recorded = []

    def counting(gan, *args):
        graph, logs = original(gan, *args)
        recorded.append(graph is not None)
        return graph, logs

    original = torch_backend._record
    monkeypatch.setattr(torch_backend, "_record", counting)
    return recorded


def _run_twins(cls, tmp_path, sizes):
    """The same GAN twice, one step eager and one recorded, on the same batches
    and the same random state (Dropout draws from torch's global generator);
    each step's logs must be equal."""
    eager, recorded = make(cls, tmp_path / "eager", seed=3), make(cls, tmp_path / "rec", seed=3)
    runs = [(eager, compiled_step(eager, jit_compile=False)), (recorded, compiled_step(recorded))]
    rng = np.random.default_rng(0)
    for i, size in enumerate(sizes):
        batch = eager.draw_batch(rng, size)
        logs = []
        for gan, run in runs:
            keras.utils.set_random_seed(100 + i)
            logs.append({name: float(value) for name, value in run(*batch).items()})
        assert logs[0] == logs[1], f"step {i}"
    return eager, recorded


@on_pytorch
@pytest.mark.parametrize("cls, sizes", [(TinyDCGAN, (16, 16, 8, 16, 8)),
                                        (TinyPix2Pix, (4, 4, 2, 4)), (TinyCycleGAN, (4, 4, 2, 4))],
                         ids=lambda value: getattr(value, "__name__", ""))
def test_pytorch_records_the_step_once_per_shape_and_replays_it_bit_for_bit(cls, sizes, tmp_path,
                                                                           monkeypatch):
    """The recorded graph is the eager step: D with Dropout and BatchNorm, G with
    BatchNorm, both optimizers, the metrics (Pix2Pix's D on pairs; CycleGAN's
    two Ds, instance norm and the pool's image by image query); recorded at
    the first step of each batch size, replayed after (and a new size
    recorded anew)."""
    recorded_steps = _count_recordings(monkeypatch)
    eager, recorded = _run_twins(cls, tmp_path, sizes=sizes)
    assert recorded_steps == [True, True]  # two sizes, each recorded once
    from common.backends import gan_variables
    for a, b in zip(gan_variables(eager), gan_variables(recorded)):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a.value),
                                      keras.ops.convert_to_numpy(b.value), err_msg=b.path)
    assert recorded.jit_compile is True and eager.jit_compile is False


@on_pytorch
def test_pytorch_run_resumed_from_an_eager_checkpoint_records_its_step(tmp_path):
    """Earlier versions wrote jit_compile False into every PyTorch checkpoint:
    a resumed run records its step all the same (False is a call's request)."""
    first = make(TinyGAN, tmp_path)
    first.train(epochs=1, batch_size=8, sample_interval=10, quiet=True, jit_compile=False)
    again = make(TinyGAN, tmp_path)
    again.train(epochs=2, batch_size=8, sample_interval=10, quiet=True, resume=True)
    assert first.jit_compile is False and again.jit_compile is True


class _BranchingGAN(TinyGAN):
    """A step that decides in Python on a tensor's value: no graph can hold it."""

    def train_step(self, imgs, noise, g_noise):
        logs = super().train_step(imgs, noise, g_noise)
        if float(logs["d_loss"]) > 1e6:  # never true; read all the same
            logs["g_loss"] = logs["g_loss"] * 2
        return logs


class _InnerNoiseGAN(TinyGAN):
    """A step that draws G's noise itself, with numpy: a recording would replay
    the same noise at every step."""

    def train_step(self, imgs, noise, g_noise):
        drawn = np.random.default_rng().normal(size=g_noise.shape).astype("float32")
        return super().train_step(imgs, noise, keras.ops.convert_to_tensor(drawn))


@on_pytorch
def test_pytorch_step_that_cannot_be_recorded_runs_eagerly_after_one_note(tmp_path, capsys):
    eager = make(_BranchingGAN, tmp_path / "eager", seed=3)
    gan = make(_BranchingGAN, tmp_path / "rec", seed=3)
    step, eager_step = compiled_step(gan), compiled_step(eager, jit_compile=False)
    rng = np.random.default_rng(0)
    for i in range(3):
        batch = gan.draw_batch(rng, 16)
        for run in (step, eager_step):
            keras.utils.set_random_seed(100 + i)
            run(*batch)
    err = capsys.readouterr().err
    assert err.count("could not be recorded as one PyTorch graph") == 1
    assert "runs eagerly" in err
    # The failed recording was undone: each step trained once, as the eager twin's.
    for a, b in zip(eager.generator.weights + eager.discriminator.weights,
                    gan.generator.weights + gan.discriminator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=b.path)

    noisy = make(_InnerNoiseGAN, tmp_path / "noise")
    noisy.train(epochs=2, batch_size=8, sample_interval=10, quiet=True)
    err = capsys.readouterr().err
    assert "reads a tensor of shape (8, 100) that is not one of the GAN's variables" in err


def _tiny_srgan(tmp_path, pretrain_steps, **options):
    from common.photos import HighResPhotos
    from tiny import TinySRGAN
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, (48, 48, 3)).astype("uint8") for _ in range(4)]
    dataset = HighResPhotos(photos[:3], photos[3:], hr_size=32)
    return TinySRGAN(hr_shape=(32, 32, 3), dataset=dataset, out_dir=str(tmp_path),
                     content_loss="mse", pretrain_steps=pretrain_steps, seed=0, **options)


@on_pytorch
def test_pytorch_records_each_srgan_phase_with_the_bicubic_skip_bit_for_bit(tmp_path,
                                                                          monkeypatch):
    recorded_steps = _count_recordings(monkeypatch)
    eager, recorded = (_tiny_srgan(tmp_path / name, pretrain_steps=1, bicubic_skip=True)
                       for name in ("eager", "rec"))
    runs = [(eager, compiled_step(eager, jit_compile=False)), (recorded, compiled_step(recorded))]
    rng = np.random.default_rng(0)
    for i in range(3):  # one SRResNet step, two GAN steps
        batch = eager.draw_batch(rng, 2)
        logs = [{k: float(v) for k, v in run(*batch).items()} for gan, run in runs]
        assert logs[0] == logs[1], f"step {i}"
    assert recorded_steps == [True, True]  # each phase recorded once
    for a, b in zip(eager.generator.weights + eager.discriminator.weights,
                    recorded.generator.weights + recorded.discriminator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=b.path)


# (Pix2Pix and CycleGAN: their own test files, run under each backend, train them.)
@on_other_backends
@pytest.mark.parametrize("name", ["gan", "cgan", "cgan-conv", "acgan", "srgan"])
def test_every_model_trains_with_its_compiled_step(name, tmp_path):
    if name == "srgan":  # one SRResNet step, then one GAN step: both phases
        gan = _tiny_srgan(tmp_path, pretrain_steps=1)
    else:
        gan = make({"gan": TinyGAN, "cgan": TinyCGAN, "cgan-conv": TinyConditionalDCGAN,
                    "acgan": TinyACGAN}[name], tmp_path)
    g_before = snapshot(gan.generator.trainable_weights)
    d_before = snapshot(gan.discriminator.trainable_weights)
    logs = gan.train(epochs=2, batch_size=4, sample_interval=1, quiet=True)
    assert all(np.isfinite(value) for value in logs.values())
    assert len(changed(g_before, gan.generator.trainable_weights)) == len(g_before)
    assert changed(d_before, gan.discriminator.trainable_weights)
    assert os.path.isfile(tmp_path / "saved_model" / "generator.keras")


@on_other_backends
def test_seeding_and_saving_a_model_do_not_load_tensorflow(tmp_path, monkeypatch):
    """Keras asks whether TensorFlow is installed when it seeds its random
    generators and when it saves a model, and the question imports it
    (seconds at start-up); off TensorFlow, in a process that has not loaded
    it, the zoo's seeding and saving leave it unloaded."""
    lazy_tensorflow = private.lazy_tensorflow()
    from common.training import save_model_atomically, set_random_seed
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)  # as if never loaded here
    monkeypatch.setattr(lazy_tensorflow, private.LAZY_MODULE_AVAILABLE, None)  # nor asked about
    imports = []
    monkeypatch.setattr(lazy_tensorflow, "initialize", lambda: imports.append("tensorflow"))
    set_random_seed(7)
    first = np.random.random()
    set_random_seed(7)
    assert np.random.random() == first  # seeded all the same
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = save_model_atomically(model, str(tmp_path / "model.keras"))
    assert imports == [] and not private.lazy_module_asked(lazy_tensorflow)  # asked again next time
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0),
                               model.predict(x, verbose=0))


def test_flags_this_backend_cannot_honour_are_one_sentence(tmp_path):
    from dcgan.dcgan import main
    if BACKEND == "tensorflow":
        pytest.skip("TensorFlow honours every device flag")
    result = call_main(main, "--strategy", "multiworker", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 2 and "error: --strategy multiworker" in result.stderr
    assert "Traceback" not in result.stderr
    result = call_main(main, "--gpus", "0", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 2 and "CUDA_VISIBLE_DEVICES" in result.stderr
    if BACKEND == "torch":
        result = call_main(main, "--strategy", "mirrored", "--epochs", "1", cwd=tmp_path)
        assert result.returncode == 2 and "one device" in result.stderr


# ---------------------------------------------------------------------------
# Mixed precision on this backend (common/precision.py; on TensorFlow,
# tests/test_precision.py checks the same)
# ---------------------------------------------------------------------------

# The layers with matrix products: those compute in 16-bit in a mixed
# precision, but for the layers making a network's output, which stay float32.
MATRIX_PRODUCTS = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def assert_mixed(model, half):
    """`model` computes its matrix products in `half`, its output in float32,
    and keeps float32 weights (kernels, BatchNorm statistics)."""
    dtypes = precision.compute_dtypes(model)
    outputs = {layer.name for layer in precision.output_layers(model)}
    products = {layer.name for layer in private.all_layers(model)
                if isinstance(layer, MATRIX_PRODUCTS)} - outputs
    assert products and {dtypes[name] for name in products} == {half}, dtypes
    assert {dtypes[name] for name in outputs} == {"float32"}, dtypes
    assert {v.dtype for v in model.weights} == {"float32"}


# On TensorFlow, tests/test_precision.py checks the five first models' mixed
# precision; the image-to-image models' is checked here alone.
@pytest.mark.parametrize("cls", [pytest.param(TinyDCGAN, marks=on_other_backends)]
                         + IMAGE_TO_IMAGE, ids=lambda cls: cls.__name__)
def test_bfloat16_trains_keeps_the_contract_and_saves_a_float32_generator(cls, tmp_path,
                                                                          monkeypatch):
    # bfloat16 as on a machine with the instructions (emulated elsewhere: slower, not wrong)
    monkeypatch.setattr(precision, "hardware_support", lambda name: (True, "assumed"))
    gan = make(cls, tmp_path, precision="mixed_bfloat16")
    ds, gs = discriminators(gan), generators(gan)
    assert gan.precision == "mixed_bfloat16"
    for model in gs + ds:
        assert_mixed(model, "bfloat16")
    # The frozen-D contract in bfloat16: the combined step trains G alone, D's
    # weights and BatchNorm moving statistics untouched; D learns in its own
    # step. (Keras' own steps run eagerly: 2 s, where tracing or compiling
    # them would take 5 more.)
    for model in ds + [gan.combined]:
        model.run_eagerly = True
    d_before, g_before = snapshot(weights_of(ds)), snapshot(weights_of(gs, trainable=True))
    gan.combined.train_on_batch(inputs_for(gan.combined, 8, 1), targets_for(gan.combined, 8, 1.0))
    assert changed(d_before, weights_of(ds)) == []
    assert len(changed(g_before, weights_of(gs, trainable=True))) == len(g_before)
    for d in ds:
        before = snapshot(d.trainable_weights)
        d.train_on_batch(inputs_for(d, 8, 5), targets_for(d, 8, 1.0))
        assert len(changed(before, d.trainable_weights)) == len(before), d.name
    # train() with this backend's compiled step: every weight moves, finite losses.
    before = snapshot(weights_of(gs + ds))
    logs = gan.train(epochs=2, batch_size=8, sample_interval=100, quiet=True)
    assert all(np.isfinite(value) for value in logs.values())
    assert len(changed(before, weights_of(gs + ds))) == len(before)
    for model in gs + ds:
        assert_mixed(model, "bfloat16")
    g, inputs = gs[0], inputs_for(gs[0], 4, 2)
    generated = keras.ops.convert_to_numpy(g(inputs))
    assert generated.dtype == np.float32
    for d in ds:
        assert keras.ops.convert_to_numpy(d(inputs_for(d, 4, 3))).dtype == np.float32
    # The saved generator computes in float32 and generates float32 images:
    # G's own, to bfloat16 rounding.
    name = next(iter(gan.saved_networks(final=False)))  # generator, or CycleGAN's g_AB
    saved = keras.models.load_model(tmp_path / "saved_model" / f"{name}.keras")
    assert set(precision.compute_dtypes(saved).values()) == {"float32"}
    from_file = keras.ops.convert_to_numpy(saved(inputs))
    assert from_file.dtype == np.float32
    np.testing.assert_allclose(from_file, generated, atol=0.05)


@on_other_backends
def test_mixed_float16_without_the_instructions_is_float32_in_one_sentence(tmp_path,
                                                                           monkeypatch, capsys):
    # A CPU with bfloat16 but no float16 instructions (as the AMD Zen 4 these
    # tests were written on), and no GPU.
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: ())
    gan = make(TinyDCGAN, tmp_path, precision="mixed_float16")
    assert gan.precision == "float32"
    assert capsys.readouterr().err.strip() == (
        "Note: --precision mixed_float16 would run emulated here, slower than float32: this "
        "CPU has no float16 instructions (AVX512_FP16 or AMX_FP16); training in float32.")
    for model in (gan.generator, gan.discriminator):
        assert set(precision.compute_dtypes(model).values()) == {"float32"}
    for model in (gan.discriminator, gan.combined):  # no loss scaling in float32
        assert not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


# ---------------------------------------------------------------------------
# Across backends, and several devices (a process each)
# ---------------------------------------------------------------------------

OTHER = "jax" if BACKEND == "tensorflow" else "tensorflow"

_WRITE_ON_OTHER = """
import sys, numpy as np
sys.path[:0] = [{repo!r}, {tests!r}]
from tiny import TinyDCGAN
from common.data import ArrayImages
images = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
gan = TinyDCGAN(dataset=ArrayImages(images), out_dir={out!r}, seed=0)
gan.train(epochs=2, batch_size=8, sample_interval=1, quiet=True)
noise = np.random.default_rng(2).normal(size=(3, gan.latent_dim)).astype("float32")
np.save({out!r} + "/noise.npy", noise)
np.save({out!r} + "/generated.npy", gan.generator.predict(noise, verbose=0))
"""


@pytest.fixture(scope="module")
def run_from_other_backend(tmp_path_factory):
    """A tiny DCGAN run (2 steps) written by a process on another backend."""
    out = str(tmp_path_factory.mktemp(f"written-on-{OTHER}"))
    env = dict(os.environ, KERAS_BACKEND=OTHER, PYTHONPATH=REPO)
    code = _WRITE_ON_OTHER.format(repo=REPO, tests=os.path.join(REPO, "tests"), out=out)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_generator_saved_on_another_backend_loads_and_generates(run_from_other_backend):
    out = run_from_other_backend
    generator = keras.models.load_model(os.path.join(out, "saved_model", "generator.keras"))
    np.testing.assert_allclose(generator.predict(np.load(os.path.join(out, "noise.npy")),
                                                 verbose=0),
                               np.load(os.path.join(out, "generated.npy")), atol=1e-5)


@pytest.mark.slow
def test_checkpoint_written_on_another_backend_resumes_here(run_from_other_backend, tmp_path):
    import shutil
    out = str(tmp_path / "run")
    shutil.copytree(run_from_other_backend, out)
    gan = TinyDCGAN(dataset=ArrayImages(random_images()), out_dir=out, seed=1)
    from common import checkpoints
    with np.load(checkpoints.checkpoint_path(out)) as npz:
        stored = {k: npz[k] for k in npz.files}
    gan.train(epochs=3, batch_size=8, sample_interval=1, quiet=True, resume=True)
    meta = json.loads(stored["meta"].tobytes().decode())
    assert checkpoints.read_meta(out)["step"] == 3 and meta["step"] == 2
    # The step trained here started from the other backend's weights: the
    # sample noise is the stored one, and the history goes on from step 2.
    np.testing.assert_array_equal(gan.sample_noise, stored["sample_noise"])
    with open(os.path.join(out, "history.csv")) as handle:
        assert [line.split(",")[0] for line in handle.read().split()[1:]] == ["0", "1", "2"]


# Every model's saved generator gives the same images on every backend: saved
# here (real networks, their weights moved off their initial values, SRGAN's
# with its bicubic skip, Pix2Pix's with its input skip, CycleGAN's g_AB),
# loaded by a process on each other backend.
GENERATORS = ["gan", "dcgan", "cgan", "cgan-conv", "acgan", "srgan", "pix2pix", "cyclegan"]

_GENERATE_ON_OTHER = """
import sys, numpy as np, keras
sys.path[:0] = [{repo!r}]
import common.bicubic  # SRGAN's generator holds the zoo's bicubic layer
outputs = {{}}
with np.load({folder!r} + "/inputs.npz") as inputs:
    for name in {names!r}:
        generator = keras.models.load_model({folder!r} + f"/{{name}}.keras", compile=False)
        arrays = [inputs[f"{{name}}_{{i}}"] for i in range(len(generator.inputs))]
        images = generator(arrays if len(arrays) > 1 else arrays[0], training=False)
        outputs[name] = keras.ops.convert_to_numpy(images)
np.savez({folder!r} + "/generated_on_" + keras.backend.backend() + ".npz", **outputs)
"""


def _real_model(name, out_dir):
    from acgan.acgan import ACGAN
    from cgan.cgan import CGAN, ConditionalDCGAN
    from dcgan.dcgan import DCGAN
    from gan.gan import GAN
    from srgan.srgan import SRGAN
    if name == "srgan":
        return SRGAN(hr_shape=(32, 32, 3), n_residual_blocks=1, bicubic_skip=True,
                     content_loss="mse", out_dir=out_dir, seed=0)
    if name == "pix2pix":  # the command line's G: its input added to what it paints
        return Pix2Pix(input_skip=True, out_dir=out_dir, seed=0)
    if name == "cyclegan":
        return CycleGAN(out_dir=out_dir, seed=0)
    return {"gan": GAN, "dcgan": DCGAN, "cgan": CGAN, "cgan-conv": ConditionalDCGAN,
            "acgan": ACGAN}[name](out_dir=out_dir, seed=0)


def _as_if_trained(model, seed):
    """Move each weight off its initial value by half its own spread (0.01
    where it starts constant: biases, SRGAN's last convolution, which starts
    at zero), so that every layer counts in what the model computes."""
    rng = np.random.default_rng(seed)
    for variable in model.trainable_weights:
        value = variable.numpy()
        spread = 0.5 * value.std() if value.std() > 0 else 0.01
        variable.assign(value + spread * rng.normal(size=value.shape).astype(value.dtype))


@pytest.fixture(scope="module")
def generators_saved_here(tmp_path_factory):
    """Each model's generator saved on this backend, with inputs and the images
    it makes of them here: (folder, {model: images})."""
    folder = tmp_path_factory.mktemp(f"generators-of-{BACKEND}")
    inputs, images = {}, {}
    for i, name in enumerate(GENERATORS):
        model = _real_model(name, str(folder / name))
        generator = model.g_AB if name == "cyclegan" else model.generator
        _as_if_trained(generator, seed=i)
        arrays = ([np.random.default_rng(i).uniform(-1, 1, (2, 8, 12, 3)).astype("float32")]
                  if name == "srgan" else inputs_for(generator, 4, seed=i))
        arrays = arrays if isinstance(arrays, list) else [arrays]
        inputs.update({f"{name}_{k}": array for k, array in enumerate(arrays)})
        images[name] = keras.ops.convert_to_numpy(
            generator(arrays if len(arrays) > 1 else arrays[0], training=False))
        generator.save(folder / f"{name}.keras")
    np.savez(folder / "inputs.npz", **inputs)
    return str(folder), images


@pytest.mark.slow  # a process on each other backend (.ci/run runs it from all three)
@pytest.mark.parametrize("other", sorted({"tensorflow", "jax", "torch"} - {BACKEND}))
def test_every_generator_saved_here_gives_the_same_images_on_another_backend(
        other, generators_saved_here):
    folder, images = generators_saved_here
    env = dict(os.environ, KERAS_BACKEND=other, PYTHONPATH=REPO)
    code = _GENERATE_ON_OTHER.format(repo=REPO, folder=folder, names=GENERATORS)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(os.path.join(folder, f"generated_on_{other}.npz")) as generated:
        for name in GENERATORS:
            assert generated[name].shape == images[name].shape, name
            # Images in [-1, 1], equal to float32 rounding: 1e-5, or 1e-4 for the
            # image-to-image generators, whose dozen convolutions at 64-256
            # channels each backend sums in its own order (CycleGAN's G: 1.03e-5
            # between TensorFlow and JAX, on one pixel of 12,288).
            atol = 1e-4 if name in ("pix2pix", "cyclegan") else 1e-5
            np.testing.assert_allclose(generated[name], images[name], rtol=0, atol=atol,
                                       err_msg=f"{name} saved on {BACKEND}, run on {other}")


_DATA_PARALLEL = """
import json, sys, numpy as np, keras
sys.path[:0] = [{repo!r}, {tests!r}]
from tiny import TinyDCGAN, TinyGAN
from common import precision
from common.backends import jax as jax_backend
from common.data import ArrayImages
from common.training import compiled_step
precision.hardware_support = lambda name: (True, "assumed")  # bfloat16 on any CPU
images = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
weights, moved, start, report = {{}}, {{}}, {{}}, {{}}
# The DCGAN in float32; in bfloat16 the GAN's MLPs (their compiled steps take
# seconds, the DCGAN's ten: tests/test_backends.py trains that one in bfloat16).
for cls, name, devices in [(TinyDCGAN, "float32", 1), (TinyDCGAN, "float32", 2),
                           (TinyGAN, "float32", 1), (TinyGAN, "mixed_bfloat16", 1),
                           (TinyGAN, "mixed_bfloat16", 2)]:
    run = f"{{cls.__name__}} {{name}} {{devices}}"
    if devices == 2:
        jax_backend.make_strategy("mirrored")  # the two CPU devices XLA_FLAGS made
    gan = cls(dataset=ArrayImages(images), out_dir={out!r} + run.replace(" ", "-"), seed=0,
              precision=name)
    every = gan.generator.weights + gan.discriminator.weights  # BatchNorm statistics too
    trained = gan.generator.trainable_weights + gan.discriminator.trainable_weights
    start.setdefault(cls, [v.numpy() for v in trained])  # the same in every run (seed 0)
    step, rng = compiled_step(gan), np.random.default_rng(1)
    for _ in range(3):
        step(*gan.draw_batch(rng, 16))
    weights[run], moved[run] = [v.numpy() for v in every], [v.numpy() for v in trained]
    report[run] = sorted({{layer.compute_dtype for layer in gan.discriminator.layers
                           if isinstance(layer, keras.layers.Dense)}})
    keras.distribution.set_distribution(None)
for a, b in zip(weights["TinyDCGAN float32 1"], weights["TinyDCGAN float32 2"]):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def relative_difference(one, other, cls):
    # how far apart two runs' trained weights ended, against how far the first's moved
    apart = sum(np.sum((a - b) ** 2) for a, b in zip(moved[one], moved[other]))
    away = sum(np.sum((a - s) ** 2) for a, s in zip(moved[one], start[cls]))
    return float(np.sqrt(apart / away))


report.update(
    two_devices_float32=relative_difference("TinyDCGAN float32 1", "TinyDCGAN float32 2",
                                            TinyDCGAN),
    two_devices_bfloat16=relative_difference("TinyGAN mixed_bfloat16 1",
                                             "TinyGAN mixed_bfloat16 2", TinyGAN),
    bfloat16_against_float32=relative_difference("TinyGAN float32 1",
                                                 "TinyGAN mixed_bfloat16 1", TinyGAN))
print(json.dumps(report))
"""


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution's data parallelism is JAX's")
def test_data_parallel_on_two_cpu_devices_equals_one_device_in_float32_and_bfloat16(tmp_path):
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=REPO,
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    code = _DATA_PARALLEL.format(repo=REPO, tests=os.path.join(REPO, "tests"),
                                 out=str(tmp_path / "run-"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    # float32: equal to float32 rounding (checked weight by weight in the script).
    assert report["two_devices_float32"] < 1e-3, report
    # bfloat16 on two devices: D's hidden layer computes in bfloat16 (its head in
    # float32), and the two devices end where one device does, to bfloat16
    # rounding: nearer than bfloat16 ends to float32.
    assert report["TinyGAN mixed_bfloat16 2"] == ["bfloat16", "float32"], report
    assert report["two_devices_bfloat16"] < report["bfloat16_against_float32"], report
