"""What a user meets off the happy path: every mistake ends in one sentence and
a non-zero exit (never a traceback), fair requests simply work, the terminal
shows the zoo's own lines, and `combined` is a plain Keras model."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO, call_main
from common import cli, data
from common.errors import UserError


def one_sentence(result):
    """The run ended with exit status 2 and one "error: ..." line, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def gan_main(*args, cwd):
    from gan.gan import main
    return call_main(main, *args, cwd=cwd)


def dcgan_main(*args, cwd):
    from dcgan.dcgan import main
    return call_main(main, *args, cwd=cwd)


# ---------------------------------------------------------------------------
# 5. --data that is not what the model reads
# ---------------------------------------------------------------------------

def test_npz_whose_images_are_not_28x28_is_one_sentence(tmp_path):
    path = tmp_path / "cifar.npz"
    np.savez(path, x_train=np.zeros((10, 32, 32, 3), np.uint8), y_train=np.zeros(10, np.int64))
    result = gan_main("--data", path, "--out", tmp_path / "run", cwd=tmp_path)
    line = one_sentence(result)
    assert "(32, 32, 3)" in line and "28x28" in line


def test_text_file_given_as_npz_never_suggests_loading_pickles(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_text("not an archive\n")
    with pytest.raises(UserError, match="not an .npz archive") as error:
        data.load_mnist(str(path), verbose=False)
    assert "pickle" not in str(error.value)


def test_npz_without_one_label_per_image_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((10, 28, 28), np.uint8), y_train=np.zeros(3, np.int64))
    with pytest.raises(UserError, match="10 images but 3 labels"):
        data.load_mnist(str(path), verbose=False)


def test_folder_given_where_an_npz_is_expected(tmp_path):
    with pytest.raises(UserError, match="is a folder: MNIST's --data is an mnist.npz file"):
        data.load_mnist(str(tmp_path), verbose=False)


def test_file_given_where_an_image_folder_is_expected(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"x")
    result = dcgan_main("--dataset", "celeba", "--data", path, "--out", tmp_path / "run",
                        cwd=tmp_path)
    assert "is a file: --data for faces is a folder" in one_sentence(result)


# ---------------------------------------------------------------------------
# 6. Numbers out of range, a batch larger than the data
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--seed", "-1"], "--seed: expected a whole number from 0 to 4294967295, got -1"),
    (["--seed", "2**40"], "--seed: expected a whole number"),
    (["--latent-dim", "0"], "--latent-dim: expected a positive integer"),
])
def test_bad_numbers_are_one_line_plus_usage(args, message, tmp_path):
    result = dcgan_main(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("usage: ") and lines[0].endswith(" [options]")
    assert message in lines[1]


def test_batch_larger_than_the_data_set_warns(tmp_path):
    path = tmp_path / "few.npz"
    np.savez(path, x_train=np.zeros((10, 28, 28), np.uint8), y_train=np.zeros(10, np.int64))
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    # The unwritable --out stops the run right after the model is built: the
    # warning must have come before that.
    result = gan_main("--data", path, "--batch-size", "16", "--out", blocker / "out",
                      cwd=tmp_path)
    assert ("warning: --batch-size 16 is larger than the 10 samples of the data set"
            in result.stderr)
    assert "cannot be written" in one_sentence(result)


# ---------------------------------------------------------------------------
# 7. Generating from the sine GAN
# ---------------------------------------------------------------------------

def test_generate_draws_the_sine_gans_curves(tmp_path):
    from common.generate import main as generate_main
    from gan.gan import GAN
    gan = GAN(img_shape=(data.SINE_POINTS,), latent_dim=8, out_dir=str(tmp_path), seed=0)
    gan.generator.save(tmp_path / "generator.keras")
    result = call_main(generate_main, tmp_path / "generator.keras", "--out",
                       tmp_path / "curves.png", "--n", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote 5 generated curves" in result.stdout
    import imageio.v3 as iio
    assert iio.imread(tmp_path / "curves.png").ndim == 3
    walk = call_main(generate_main, tmp_path / "generator.keras", "--walk",
                     tmp_path / "w.gif", cwd=tmp_path)
    assert "leave out --walk" in one_sentence(walk)


# ---------------------------------------------------------------------------
# 8. --eval-interval where there is no score for the data
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("main, dataset", [("dcgan", "celeba"), ("gan", "sine")])
def test_eval_interval_without_a_score_is_refused_at_parse_time(main, dataset, tmp_path):
    run = {"gan": gan_main, "dcgan": dcgan_main}[main]
    result = run("--dataset", dataset, "--eval-interval", "5", cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 2
    assert f"no such score for --dataset {dataset}" in result.stderr


# ---------------------------------------------------------------------------
# 9, 12, 13: start-up as a real process
# ---------------------------------------------------------------------------

def _python(code, *args, env=None, **kwargs):
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=env, **kwargs)


def test_help_and_argument_errors_answer_before_tensorflow_loads():
    code = """
import runpy, sys
for script in ("gan/gan.py", "dcgan/dcgan.py", "cgan/cgan.py", "acgan/acgan.py"):
    for argv in (["--help"], ["--epochs", "0"]):
        sys.argv = [script] + argv
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as exit:
            print(script, argv[0], "exit", exit.code, file=sys.stderr)
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""
    result = _python(code)
    assert result.stdout.strip().splitlines()[-1] == "False False", result.stderr
    assert result.stderr.count("exit 0") == 4 and result.stderr.count("exit 2") == 4


def test_dcgan_help_as_a_command_imports_neither_tensorflow_nor_keras():
    """`python dcgan/dcgan.py --help` answers at once: it imports nothing of the
    seconds TensorFlow and Keras take to load (-X importtime lists every import)."""
    result = subprocess.run([sys.executable, "-X", "importtime",
                             os.path.join(REPO, "dcgan", "dcgan.py"), "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--real-label" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "argparse" in imported  # the listing is there...
    assert not imported & {"tensorflow", "keras", "jax", "torch"}, sorted(imported)  # ...without these


@pytest.mark.slow  # a real process (its own TensorFlow start-up)
def test_tensorflow_start_up_lines_stay_off_the_terminal():
    code = """
import argparse
from common import cli
cli.parse_before_imports(argparse.ArgumentParser, argv=[])
import tensorflow as tf
tf.config.list_physical_devices("GPU")
print("ready")
"""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = REPO
    result = _python(code, env=env)
    assert result.stdout.strip() == "ready"
    assert result.stderr == "", result.stderr  # no I0000 ..., no E0000 ... cuInit


def test_users_own_tensorflow_log_level_is_respected(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    monkeypatch.setattr(cli, "_quieted", False)
    assert cli.quiet_tensorflow_log() is False
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


def test_ctrl_c_during_start_up_says_interrupted(tmp_path):
    process = subprocess.Popen(
        [sys.executable, os.path.join(REPO, "dcgan", "dcgan.py"), "--epochs", "2",
         "--out", str(tmp_path / "run")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": REPO})
    time.sleep(2.0)  # the flags are read; TensorFlow is loading (4-6 s)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Interrupted." in stderr and "Traceback" not in stderr



def test_ctrl_c_that_python_ignores_where_it_lands_still_ends_the_start_up(monkeypatch, capsys):
    """A Ctrl-C during the imports can land in a garbage-collection callback
    (JAX's), where Python reports the SystemExit and goes on: seen as exit
    status 0 and a traceback. The start-up says "Interrupted." once and ends
    with 130 as soon as it can."""
    import gc
    monkeypatch.setattr(cli, "_interrupt_requested", False)
    monkeypatch.setattr(sys, "unraisablehook", cli._unraisable(sys.__unraisablehook__))
    previous = signal.signal(signal.SIGINT, cli._interrupted)

    def ctrl_c_in_a_gc_callback(phase, info):
        cli._interrupted()
    gc.callbacks.append(ctrl_c_in_a_gc_callback)
    try:
        gc.collect()  # the SystemExit is raised and ignored here
    finally:
        gc.callbacks.remove(ctrl_c_in_a_gc_callback)
    ran = []
    try:
        with pytest.raises(SystemExit) as exit:
            cli.run_cli(lambda: ran.append(True))()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert exit.value.code == 130 and ran == []
    stderr = capsys.readouterr().err
    assert stderr.count("Interrupted.") == 1 and "Traceback" not in stderr
    assert sys.unraisablehook is sys.__unraisablehook__

# ---------------------------------------------------------------------------
# 14. Each model's --help describes its own flags
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("script, data_help", [
    ("gan.gan", "an mnist.npz for MNIST"),
    ("dcgan.dcgan", "a folder of face images for celeba"),
    ("cgan.cgan", "an mnist.npz"),
    ("acgan.acgan", "an mnist.npz"),
])
def test_help_describes_the_models_own_flags(script, data_help, tmp_path):
    import importlib
    main = importlib.import_module(script).main
    result = call_main(main, "--help", cwd=tmp_path)
    text = " ".join(result.stdout.split())
    assert result.returncode == 0 and data_help in text
    assert "--epochs is the total" in text
    assert "steps between sample grids, saved models and checkpoints" in text


def test_srgan_help_describes_srgans_flags(tmp_path):
    from srgan.srgan import main
    result = call_main(main, "--help", cwd=tmp_path)
    text = " ".join(result.stdout.split())
    assert result.returncode == 0 and "a folder of photos" in text
    assert "the --pretrain-steps included" in text and "--latent-dim" not in text


# ---------------------------------------------------------------------------
# 11. Keras-GAN's steps: GAN's G step on fresh noise
# ---------------------------------------------------------------------------

def test_gan_trains_its_generator_on_fresh_noise_as_keras_gan_does(tmp_path):
    from gan.gan import GAN
    rng = np.random.default_rng(0)
    dataset = data.ArrayImages(rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32"))
    imgs, noise, g_noise = GAN(latent_dim=8, dataset=dataset, out_dir=str(tmp_path),
                               seed=0).draw_batch(rng, 8)
    assert not np.allclose(noise, g_noise)
    generators = []
    for g_step_noise in (g_noise, -g_noise):  # same D step, other noise for G's step
        gan = GAN(latent_dim=8, dataset=dataset, out_dir=str(tmp_path), seed=0)
        gan.train_step(imgs, noise, g_step_noise)
        generators.append([w.numpy() for w in gan.generator.trainable_weights])
    assert any(not np.allclose(a, b) for a, b in zip(*generators))


# ---------------------------------------------------------------------------
# 10. combined is a plain Keras model
# ---------------------------------------------------------------------------

def _build(name, tmp_path):
    if name == "srgan":
        from srgan.srgan import SRGAN
        # The VGG content loss and the pre-training schedule are SRGAN's own
        # classes, saved with the combined model: both are covered here.
        return SRGAN(hr_shape=(16, 16, 3), n_residual_blocks=1, upsample_filters=8,
                     content_loss="vgg", vgg_weights=None, vgg_layer="block1_conv2",
                     pretrain_steps=10, out_dir=str(tmp_path), seed=0)
    from acgan.acgan import ACGAN
    from cgan.cgan import CGAN, ConditionalDCGAN
    from dcgan.dcgan import DCGAN
    from gan.gan import GAN
    cls = {"gan": GAN, "dcgan": DCGAN, "cgan": CGAN, "cgan-conv": ConditionalDCGAN,
           "acgan": ACGAN}[name]
    return cls(latent_dim=8, out_dir=str(tmp_path), seed=0)


def _inputs(model, rng):
    arrays = []
    for tensor in model.inputs:
        shape = (4,) + tuple(tensor.shape[1:])
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 10, shape).astype("int32"))
        else:
            arrays.append(rng.normal(size=shape).astype("float32"))
    return arrays if len(arrays) > 1 else arrays[0]


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("name", ["gan", "dcgan", "cgan", "cgan-conv", "acgan", "srgan"])
def test_combined_saves_loads_and_clones_like_any_keras_model(name, tmp_path):
    import keras
    gan = _build(name, tmp_path)
    x = _inputs(gan.combined, np.random.default_rng(0))
    expected = keras.tree.flatten(gan.combined.predict(x, verbose=0))
    gan.combined.save(tmp_path / "combined.keras")
    loaded = keras.models.load_model(tmp_path / "combined.keras")
    for want, got in zip(expected, keras.tree.flatten(loaded.predict(x, verbose=0))):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert len(loaded.trainable_weights) == len(gan.generator.trainable_weights)  # G's alone
    assert gan.combined.get_config()["name"] == "combined"
    clone = keras.models.clone_model(gan.combined)
    assert len(clone.trainable_weights) == len(gan.combined.trainable_weights)
