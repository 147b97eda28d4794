"""Mixed precision (common/precision.py): G and D compute in 16-bit, while the
weights, the outputs, the losses, the BatchNorm statistics and the frozen-D
contract stay as in float32; mixed_float16 scales the loss; a machine without
the instructions trains in float32 and says so; --resume keeps a run's
precision; saved generators load and generate in float32. On tiny models
(tests/tiny.py)."""
import keras
import numpy as np
import pytest

from conftest import assert_frozen_d_contract, call_main, changed, snapshot, without_dropout
from common import checkpoints, precision, private
from common.data import ArrayImages
from common.run_state import run_state
from common.training import compiled_step, match_xla
from tiny import TinyACGAN, TinyDCGAN, TinySRGAN

HALF = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


@pytest.fixture
def sixteen_bit_everywhere(monkeypatch):
    """This machine computes bfloat16 and float16 natively (tests of the
    mechanics run on any CPU; emulated float16 is slow, not wrong)."""
    monkeypatch.setattr(precision, "hardware_support", lambda name: (True, "assumed"))


@pytest.fixture
def no_sixteen_bit(monkeypatch):
    """A CPU without bfloat16 or float16 instructions, and no GPU."""
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: ())


def digits(n=64, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype("float32")


def dtype(tensor):
    """A tensor's dtype by name on every backend (PyTorch's is torch.float32)."""
    return keras.backend.standardize_dtype(tensor.dtype)


def layers_of(model):
    return [layer for layer in private.all_layers(model)
            if not isinstance(layer, (keras.layers.InputLayer, keras.Model))]


def test_g_and_d_compute_in_16_bit_with_float32_weights_outputs_losses_and_statistics(
        tmp_path, sixteen_bit_everywhere):
    name = "mixed_bfloat16"
    gan = TinyACGAN(out_dir=str(tmp_path), seed=0, precision=name)
    assert gan.precision == name
    for model in (gan.generator, gan.discriminator):
        outputs = {id(layer) for layer in precision.output_layers(model)}
        computing = [layer for layer in layers_of(model) if id(layer) not in outputs]
        # On a CPU: matrix products (and layers that move values) in 16-bit,
        # elementwise layers (BatchNorm, activations, dropout) in float32.
        matrix = [layer for layer in computing if not isinstance(layer, precision._ELEMENTWISE)]
        elementwise = [layer for layer in computing if isinstance(layer, precision._ELEMENTWISE)]
        assert any(isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) for layer in matrix)
        assert {layer.compute_dtype for layer in matrix} == {HALF[name]}
        assert elementwise and {layer.compute_dtype for layer in elementwise} == {"float32"}
        # the tanh image, the sigmoid and softmax heads
        assert {layer.compute_dtype for layer in layers_of(model) if id(layer) in outputs} \
            == {"float32"}
        assert {v.dtype for v in model.weights} == {"float32"}  # kernels, BatchNorm statistics
    rng = np.random.default_rng(1)
    imgs, labels = digits(16), rng.integers(0, 10, 16)
    noise = rng.normal(size=(16, gan.latent_dim)).astype("float32")
    assert keras.ops.convert_to_numpy(gan.generator([noise, labels])).dtype == np.float32
    validity, label = gan.discriminator(imgs)
    assert dtype(validity) == dtype(label) == "float32"
    stats = [v for v in gan.discriminator.weights if "moving" in v.path]
    before = snapshot(stats)
    logs = compiled_step(gan)(imgs, labels, noise, labels)
    assert all(dtype(value) == "float32" and np.isfinite(float(value)) for value in logs.values())
    # BatchNorm's moving statistics are float32 variables, and D's step moved them.
    assert {v.dtype for v in stats} == {"float32"} and len(changed(before, stats)) == len(stats)


def test_on_a_gpu_every_layer_but_the_outputs_computes_in_16_bit(tmp_path, monkeypatch,
                                                                 sixteen_bit_everywhere):
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: ((9, 0),))
    gan = TinyDCGAN(out_dir=str(tmp_path), seed=0, precision="mixed_bfloat16")
    for model in (gan.generator, gan.discriminator):
        outputs = {id(layer) for layer in precision.output_layers(model)}
        computing = [layer for layer in layers_of(model) if id(layer) not in outputs]
        assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in computing)
        assert {layer.compute_dtype for layer in computing} == {"bfloat16"}


def test_srgan_vgg_content_loss_computes_in_16_bit_and_compares_float32_features(
        tmp_path, sixteen_bit_everywhere):
    gan = TinySRGAN(out_dir=str(tmp_path), seed=0, precision="mixed_bfloat16",
                    content_loss="vgg", vgg_weights=None, vgg_layer="block1_conv2")
    features = gan.content_loss.features
    dtypes = precision.compute_dtypes(features)
    # VGG19's first convolution computes in bfloat16; its feature layer, the
    # output, in float32, so that the loss compares float32 features.
    assert dtypes["block1_conv1"] == "bfloat16" and dtypes["block1_conv2"] == "float32"
    hr = np.random.default_rng(0).uniform(-1, 1, (2,) + gan.hr_shape).astype("float32")
    assert dtype(features(hr)) == "float32"
    assert np.isfinite(float(keras.ops.mean(gan.content_loss(hr, hr[::-1]))))


def test_auto_keeps_acgan_in_float32_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: ())
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    gan = TinyACGAN(out_dir=str(tmp_path), seed=0, precision="auto")
    assert gan.precision == "float32"
    assert "Precision: float32 (this CPU has AVX512_BF16, but ACGAN drew the digit asked for " \
           "less often in bfloat16" in capsys.readouterr().out
    assert {layer.compute_dtype for layer in layers_of(gan.discriminator)} == {"float32"}
    # asked for by name, it trains in bfloat16
    assert TinyACGAN(out_dir=str(tmp_path), seed=0,
                     precision="mixed_bfloat16").precision == "mixed_bfloat16"


def test_frozen_discriminator_contract_holds_in_bfloat16(tmp_path, sixteen_bit_everywhere):
    gan = TinyDCGAN(dataset=ArrayImages(digits()), out_dir=str(tmp_path), seed=0,
                    precision="mixed_bfloat16")
    images = digits(16, seed=1)
    noise = np.random.default_rng(1).normal(size=(16, gan.latent_dim)).astype("float32")
    assert_frozen_d_contract(gan, (images, np.ones((16, 1))), (noise, np.ones((16, 1))))


def test_fused_step_equals_explicit_train_on_batch_calls_in_bfloat16(tmp_path,
                                                                     sixteen_bit_everywhere):
    name = "mixed_bfloat16"
    fused = TinyDCGAN(out_dir=str(tmp_path), seed=3, precision=name)
    explicit = TinyDCGAN(out_dir=str(tmp_path), seed=3, precision=name)
    if keras.backend.backend() == "torch":  # (conftest.without_dropout says why)
        for gan in (fused, explicit):
            without_dropout(gan.discriminator)
    rng = np.random.default_rng(0)
    fused.dataset = explicit.dataset = ArrayImages(digits())
    imgs, noise = fused.draw_batch(rng, 16)
    compiled_step(fused)(imgs, noise)
    match_xla(explicit)
    gen_imgs = explicit.generator.predict(noise, verbose=0)
    explicit.discriminator.train_on_batch(imgs, np.ones((16, 1)))
    explicit.discriminator.train_on_batch(gen_imgs, np.zeros((16, 1)))
    explicit.combined.train_on_batch(noise, np.ones((16, 1)))
    pairs = list(zip(fused.generator.weights + fused.discriminator.weights,
                     explicit.generator.weights + explicit.discriminator.weights))
    if keras.backend.backend() == "jax":
        # There the fused step is one XLA program, and Keras runs the combined
        # model's train_on_batch op by op (common/frozen.py): bfloat16 rounds
        # in other places. Where a gradient is no more than that rounding,
        # Adam's first step (the learning rate, whatever the gradient's size)
        # may take the other sign: such a weight ends two steps apart.
        # BatchNorm's moving statistics differ by bfloat16's rounding (2^-8
        # relative); nearly all weights agree as on TensorFlow and PyTorch.
        lr = max(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
                 for model in (fused.discriminator, fused.combined))
        apart = []
        for a, b in pairs:
            difference = np.abs(a.numpy() - b.numpy())
            assert np.all(difference <= np.maximum(2 * lr * 1.001, 2**-7 * np.abs(b.numpy()))), \
                a.path
            apart.append((difference > 1e-4 * np.abs(b.numpy()) + 1e-6).ravel())
        assert np.mean(np.concatenate(apart)) < 0.05
        return
    for a, b in pairs:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=f"{name}: {a.path}")


def test_mixed_float16_scales_the_loss_of_every_optimizer(tmp_path, sixteen_bit_everywhere):
    gan = TinySRGAN(out_dir=str(tmp_path), seed=0, precision="mixed_float16", pretrain_steps=2)
    for model in (gan.discriminator, gan.combined, gan.srresnet):
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer), model.name
    # SRResNet's pre-training steps and the GAN steps still share G's one optimizer.
    assert gan.srresnet.optimizer is gan.combined.optimizer
    assert "float16" in {layer.compute_dtype for layer in layers_of(gan.discriminator)}
    # A float16 step: the loss is scaled up for the gradients, which are scaled
    # back down before Adam sees them, so D learns as in float32.
    hr = np.random.default_rng(0).uniform(-1, 1, (2,) + gan.hr_shape).astype("float32")
    before = snapshot(gan.discriminator.trainable_weights)
    logs = gan.discriminator.train_on_batch(hr, np.ones((2,) + gan.disc_patch), return_dict=True)
    assert np.isfinite(logs["loss"])
    assert len(changed(before, gan.discriminator.trainable_weights)) == len(before)
    assert float(gan.discriminator.optimizer.dynamic_scale) > 1
    # as Model.compile itself wraps it for a model whose policy is mixed_float16
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.dtype_policy = "mixed_float16"
    model.compile(loss="mse", optimizer="adam")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    float32 = TinySRGAN(out_dir=str(tmp_path), seed=0, precision="float32")
    assert not isinstance(float32.combined.optimizer, keras.optimizers.LossScaleOptimizer)


def test_without_the_instructions_one_sentence_and_float32(tmp_path, no_sixteen_bit, capsys):
    gan = TinyDCGAN(out_dir=str(tmp_path), seed=0, precision="mixed_bfloat16")
    assert gan.precision == "float32"
    assert {layer.compute_dtype for layer in layers_of(gan.discriminator)} == {"float32"}
    err = capsys.readouterr().err.strip()
    assert err == ("Note: --precision mixed_bfloat16 would run emulated here, slower than "
                   "float32: this CPU has no bfloat16 instructions (AVX512_BF16 or AMX_BF16); "
                   "training in float32.")
    assert precision.choose("auto", say=lambda *a, **k: None) == "float32"
    said = []
    assert precision.choose("mixed_float16", say=lambda *a, **k: said.append(a[0])) == "float32"
    assert said == ["Note: --precision mixed_float16 would run emulated here, slower than float32: "
                    "this CPU has no float16 instructions (AVX512_FP16 or AMX_FP16); training in "
                    "float32."]


def test_auto_is_bfloat16_where_the_machine_has_it_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: ())
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert precision.choose("auto") == "mixed_bfloat16"
    assert capsys.readouterr().out.strip() == (
        "Precision: mixed_bfloat16 (this CPU has AVX512_BF16; choose with --precision).")
    # networks without convolutions (GAN's and CGAN's MLPs) gained nothing steady on a CPU
    assert precision.choose("auto", convolutional=False) == "float32"
    assert capsys.readouterr().out.strip() == (
        "Precision: float32 (this CPU has AVX512_BF16, but networks without convolutions "
        "gain nothing steady from it on a CPU; choose with --precision).")
    monkeypatch.setattr(precision, "gpu_compute_capabilities", lambda: ((7, 5),))
    assert precision.hardware_support("mixed_bfloat16")[0] is False  # a T4: float16 only
    assert precision.hardware_support("mixed_float16")[0] is True
    with pytest.raises(precision.UserError, match="Unknown precision 'half'"):
        precision.choose("half")


def test_saved_generator_is_float32_and_resume_keeps_the_precision_of_the_run(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(precision, "hardware_support", lambda name: (True, "assumed"))
    data = ArrayImages(digits())
    gan = TinyDCGAN(dataset=data, out_dir=str(tmp_path), seed=0, precision="mixed_bfloat16")
    gan.train(epochs=1, batch_size=8, sample_interval=100, quiet=True)
    # The saved generator loads and generates in float32, on any machine...
    loaded = keras.models.load_model(tmp_path / "saved_model" / "generator.keras")
    assert {layer.compute_dtype for layer in layers_of(loaded)} == {"float32"}
    noise = np.random.default_rng(2).normal(size=(4, gan.latent_dim)).astype("float32")
    out = loaded.predict(noise, verbose=0)
    assert out.dtype == np.float32
    # (the same weights: its images differ from the bfloat16 ones by bfloat16 rounding)
    np.testing.assert_allclose(out, gan.generator.predict(noise, verbose=0), atol=0.05)
    # ...while the training model goes on in bfloat16.
    assert "bfloat16" in {layer.compute_dtype for layer in layers_of(gan.generator)}

    # Resumed with the default ("auto", float32 where it was built: no bfloat16
    # there), the run goes on in the bfloat16 its checkpoint recorded.
    monkeypatch.setattr(precision, "hardware_support", lambda name: (name == "float32", "none"))
    gan = TinyDCGAN(dataset=data, out_dir=str(tmp_path), seed=0, precision="auto")
    assert gan.precision == "float32"
    monkeypatch.setattr(precision, "hardware_support", lambda name: (True, "assumed"))
    gan.train(epochs=2, batch_size=8, sample_interval=100, quiet=True, resume=True)
    assert gan.precision == "mixed_bfloat16" and run_state(gan).run_config["precision"] == "mixed_bfloat16"
    assert "bfloat16" in {layer.compute_dtype for layer in layers_of(gan.generator)}
    assert "Precision: mixed_bfloat16, as the run was trained until now." in capsys.readouterr().out
    # A precision asked for by name is used, with a warning (the same variables).
    gan = TinyDCGAN(dataset=data, out_dir=str(tmp_path), seed=0, precision="float32")
    warnings = []
    checkpoints.load_checkpoint(gan, checkpoints.run_config(gan, precision=gan.precision),
                                warn=warnings.append)
    assert warnings == ["Warning: --precision was mixed_bfloat16 in this run until now; it goes "
                        "on with float32."]


def test_bfloat16_under_a_mirrored_strategy(tmp_path, sixteen_bit_everywhere):
    import tensorflow as tf
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        gan = TinyDCGAN(dataset=ArrayImages(digits()), out_dir=str(tmp_path), seed=0,
                        precision="mixed_bfloat16")
    before = snapshot(gan.generator.trainable_weights + gan.discriminator.trainable_weights)
    logs = gan.train(epochs=2, batch_size=8, sample_interval=100, quiet=True)
    assert all(np.isfinite(value) for value in logs.values())
    assert len(changed(before, gan.generator.trainable_weights +
                       gan.discriminator.trainable_weights)) == len(before)
    assert "bfloat16" in {layer.compute_dtype for layer in layers_of(gan.discriminator)}


def test_every_model_has_the_flag_and_a_wrong_value_is_one_message(tmp_path):
    from acgan.acgan import main as acgan_main
    from cgan.cgan import main as cgan_main
    from dcgan.dcgan import main as dcgan_main
    from gan.gan import main as gan_main
    from srgan.srgan import main as srgan_main
    for main in (gan_main, dcgan_main, cgan_main, acgan_main, srgan_main):
        result = call_main(main, "--help", cwd=tmp_path)
        assert "--precision {auto,float32,mixed_bfloat16,mixed_float16}" in result.stdout
        result = call_main(main, "--precision", "half", cwd=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "argument --precision: invalid choice: 'half'" in result.stderr
