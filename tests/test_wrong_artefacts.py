"""The wrong artefact given to any command that takes one (a generator of
another model, a discriminator, a folder, a file that is not a model, a
checkpoint of another model): one sentence naming what was expected and what
was given, exit status 2, no traceback; and every entry point as quiet as
training (no TensorFlow C++ start-up lines)."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers

from conftest import save_tiny_generators, REPO, call_main
from common.data import ArrayImages
from common.errors import UserError
from common.generate import main as generate_main
from common.metrics import main as metrics_main
from cyclegan.cyclegan import main as cyclegan_main
from pix2pix.pix2pix import main as pix2pix_main
from srgan.srgan import main as srgan_main

CHATTER = ("oneDNN custom operations", "TF_ENABLE_ONEDNN_OPTS", "cuda", "CUDA",
           "This TensorFlow binary is optimized", "E0000", "W0000", "I0000", "cuInit",
           "absl::InitializeLog")


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory):
    """Tiny stand-ins with the inputs and outputs of the zoo's saved models,
    and files that are not models."""
    folder = tmp_path_factory.mktemp("artefacts")
    save_tiny_generators(folder, "dcgan_generator.keras", "cgan_generator.keras")
    picture = keras.Input((28, 28, 1))
    keras.Model(picture, layers.Dense(1, activation="sigmoid")(layers.Flatten()(picture))).save(
        folder / "discriminator.keras")
    lr = keras.Input((None, None, 3))
    hr = layers.Conv2D(3, 3, padding="same")(layers.UpSampling2D(4)(lr))
    keras.Model(lr, hr).save(folder / "srgan_generator.keras")
    hr_in = keras.Input((32, 32, 3))
    patches = layers.Conv2D(1, 3, strides=16, padding="same")(hr_in)
    keras.Model(hr_in, patches).save(folder / "srgan_discriminator.keras")
    # CycleGAN's saved models (pix2pix's generator.keras is of g_AB's kind).
    (folder / "cyclegan").mkdir()
    image = keras.Input((32, 32, 3))
    translator = keras.Model(image, layers.Conv2D(3, 3, padding="same", activation="tanh")(image))
    translator.save(folder / "cyclegan" / "g_AB.keras")
    translator.save(folder / "translator.keras")  # a name that says no direction
    keras.Model(image, layers.Conv2D(1, 4, strides=16, padding="same")(image)).save(
        folder / "cyclegan" / "d_A.keras")
    (folder / "notes.txt").write_text("not a model\n")
    from PIL import Image
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / "photo.png")
    np.savez(folder / "latest.npz", meta=np.frombuffer(b'{"step": 1}', np.uint8),
             v0=np.zeros(3))
    (folder / "saved_model").mkdir()
    return folder


def assert_one_sentence(result, *words):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


GENERATOR_CASES = [
    ("missing.keras", "does not exist"),
    ("saved_model", "is a folder"),
    ("notes.txt", "a text file"),
    ("photo.png", "a PNG image"),
    ("latest.npz", "a training checkpoint"),
    ("discriminator.keras", "a discriminator (an image in, a score out)"),
    ("srgan_discriminator.keras", "a discriminator (an image in, a score per patch out)"),
    ("srgan_generator.keras", "SRGAN's (an image in, a larger image out)"),
]


@pytest.mark.parametrize("name, given", GENERATOR_CASES)
def test_generate_names_what_it_expects_and_what_it_was_given(artefacts, tmp_path, name, given):
    result = call_main(generate_main, str(artefacts / name), "--out", str(tmp_path / "x.png"),
                       cwd=tmp_path)
    assert_one_sentence(result, "common.generate expects a generator saved by the zoo",
                        str(artefacts / name), given)


# (common.generate takes an image-to-image generator too: with --input,
# tests/test_translate.py.)
TRANSLATOR = "an image-to-image generator (an image in, an image of the same size out)"


@pytest.mark.parametrize("name, given", GENERATOR_CASES + [("cyclegan/g_AB.keras", TRANSLATOR)])
def test_metrics_names_what_it_expects_and_what_it_was_given(artefacts, tmp_path, name, given):
    result = call_main(metrics_main, str(artefacts / name), cwd=tmp_path)
    assert_one_sentence(result, "common.metrics expects a generator saved by the zoo",
                        str(artefacts / name), given)


UPSCALER_CASES = [
    ("missing.keras", "does not exist"),
    ("saved_model", "is a folder"),
    ("notes.txt", "a text file"),
    ("photo.png", "a PNG image"),
    ("latest.npz", "a training checkpoint"),
    ("dcgan_generator.keras", "a generator (noise in, an image out)"),
    ("cgan_generator.keras", "a conditional generator (noise and a label in, an image out)"),
    ("srgan_discriminator.keras", "a discriminator"),
    ("cyclegan/g_AB.keras", TRANSLATOR),
]


@pytest.mark.parametrize("name, given", UPSCALER_CASES)
def test_srgan_upscale_names_what_it_expects_and_what_it_was_given(artefacts, tmp_path, name,
                                                                   given):
    result = call_main(srgan_main, "--upscale", str(artefacts / "photo.png"),
                       "--generator", str(artefacts / name), "--out", str(tmp_path / "up.png"),
                       cwd=tmp_path)
    assert_one_sentence(result, "srgan.py --upscale expects SRGAN's generator",
                        str(artefacts / name), given)
    assert not (tmp_path / "up.png").exists()


TRANSLATOR_CASES = [
    ("missing.keras", "does not exist"),
    ("notes.txt", "a text file"),
    ("photo.png", "a PNG image"),
    ("latest.npz", "a training checkpoint"),
    ("dcgan_generator.keras", "a generator (noise in, an image out)"),
    ("cgan_generator.keras", "a conditional generator (noise and a label in, an image out)"),
    ("srgan_generator.keras", "SRGAN's (an image in, a larger image out)"),
    ("cyclegan/d_A.keras", "a discriminator (an image in, a score per patch out)"),
]


EVALUATE_CASES = [
    *[(srgan_main, name, "srgan.py --evaluate expects SRGAN's generator", given)
      for name, given in UPSCALER_CASES],
    *[(pix2pix_main, name, "pix2pix.py --evaluate expects an image-to-image generator", given)
      for name, given in TRANSLATOR_CASES + [("saved_model", "is a folder")]],
    *[(cyclegan_main, name, "cyclegan.py --evaluate expects an image-to-image generator", given)
      for name, given in TRANSLATOR_CASES],
    (cyclegan_main, "saved_model", "cyclegan.py --evaluate expects CycleGAN's saved generators",
     "holds neither g_AB.keras nor g_BA.keras"),
    (cyclegan_main, "translator.keras", "is an image-to-image generator",
     "its name does not say which way"),
]


@pytest.mark.parametrize("main, name, expected, given", EVALUATE_CASES,
                         ids=[f"{main.__module__.split('.')[0]}-{name}-{given[:20]}"
                              for main, name, _, given in EVALUATE_CASES])
def test_evaluate_names_what_it_expects_and_what_it_was_given(artefacts, tmp_path, main, name,
                                                             expected, given):
    result = call_main(main, "--evaluate", str(artefacts / name), "--out", str(tmp_path),
                       cwd=tmp_path)
    assert_one_sentence(result, expected, str(artefacts / name), given)


def test_srgan_generator_without_upscale_is_refused(artefacts, tmp_path):
    result = call_main(srgan_main, "--generator", str(artefacts / "srgan_generator.keras"),
                       cwd=tmp_path)
    assert_one_sentence(result, "--generator", "without --upscale")


def test_the_right_artefacts_still_load(artefacts):
    from common.evaluation import load_generator
    load_generator(str(artefacts / "dcgan_generator.keras"))
    load_generator(str(artefacts / "cgan_generator.keras"))
    load_generator(str(artefacts / "srgan_generator.keras"), expects="upscaler")
    load_generator(str(artefacts / "cyclegan" / "g_AB.keras"), expects="translator")


def test_resume_from_a_file_that_is_not_a_checkpoint(tmp_path):
    from tiny import TinyGAN
    os.makedirs(tmp_path / "checkpoints")
    (tmp_path / "checkpoints" / "latest.npz").write_text("not a checkpoint")
    with pytest.raises(UserError) as error:
        TinyGAN(out_dir=str(tmp_path), seed=0).train(epochs=2, quiet=True, resume=True)
    message = str(error.value)
    assert "--resume expects the checkpoint a run of TinyGAN wrote" in message
    assert "latest.npz could not be read as one" in message and "\n" not in message


def test_resume_from_a_checkpoint_of_another_model_names_both(tmp_path, mnist):
    from common.data import ArrayImages
    from tiny import TinyDCGAN, TinyGAN

    def digits():
        return ArrayImages(mnist[0][:256])
    TinyGAN(dataset=digits(), out_dir=str(tmp_path), seed=0).train(
        epochs=1, batch_size=8, quiet=True)
    with pytest.raises(UserError) as error:
        TinyDCGAN(dataset=digits(), out_dir=str(tmp_path), seed=0).train(
            epochs=2, batch_size=8, quiet=True, resume=True)
    message = str(error.value)
    assert "--resume expects a checkpoint of TinyDCGAN" in message
    assert "(TinyGAN, not TinyDCGAN)" in message and "\n" not in message


@pytest.mark.parametrize("first, then", [("TinyCycleGAN", "TinyDCGAN"),
                                         ("TinyDCGAN", "TinyCycleGAN")])
def test_resume_across_cyclegan_and_another_model_names_both(tmp_path, first, then):
    """The first model's checkpoint as its run writes it (written directly: the
    refusal reads the model's name and variables, and tracing CycleGAN's step
    would take seconds), resumed by the other model."""
    import tiny
    from common import checkpoints

    def make(name):
        data = tiny.unpaired_images() if name == "TinyCycleGAN" else \
            ArrayImages(np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32"))
        return getattr(tiny, name)(dataset=data, out_dir=str(tmp_path), seed=0)
    written = make(first)
    checkpoints.save_checkpoint(written, 1, {"config": checkpoints.run_config(written)})
    with pytest.raises(UserError) as error:
        make(then).train(epochs=2, batch_size=4, quiet=True, resume=True)
    message = str(error.value)
    assert f"--resume expects a checkpoint of {then}" in message
    assert f"({first}, not {then})" in message and "\n" not in message


def run_module(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)


def assert_quiet(result):
    for word in CHATTER:
        assert word not in result.stderr, result.stderr


@pytest.mark.slow  # real processes: what a terminal shows of TensorFlow's start-up
@pytest.mark.parametrize("command, name, expected", [
    (["-m", "common.generate"], "discriminator.keras", "common.generate expects"),
    (["-m", "common.metrics"], "notes.txt", "common.metrics expects"),
    ([os.path.join(REPO, "srgan", "srgan.py"), "--upscale", "PHOTO", "--generator"],
     "dcgan_generator.keras", "srgan.py --upscale expects"),
])
def test_real_commands_exit_2_with_one_quiet_sentence(artefacts, tmp_path, command, name,
                                                      expected):
    command = [str(artefacts / "photo.png") if part == "PHOTO" else part for part in command]
    result = run_module(*command, str(artefacts / name), cwd=REPO)
    assert_one_sentence(result, expected, str(artefacts / name))
    assert_quiet(result)


@pytest.mark.slow  # a real process, as above
def test_generate_on_a_real_generator_shows_only_the_zoos_lines(artefacts, tmp_path):
    result = run_module("-m", "common.generate", str(artefacts / "dcgan_generator.keras"),
                        "--out", str(tmp_path / "grid.png"), cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert_quiet(result)
    assert result.stderr.strip() == "", result.stderr


@pytest.mark.slow
def test_resume_a_gan_run_with_dcgan_is_one_sentence(tmp_path):
    gan = run_module(os.path.join(REPO, "gan", "gan.py"), "--epochs", "1", "--quiet",
                     "--out", str(tmp_path), cwd=tmp_path)
    assert gan.returncode == 0, gan.stderr
    result = run_module(os.path.join(REPO, "dcgan", "dcgan.py"), "--resume", "--epochs", "2",
                        "--out", str(tmp_path), cwd=tmp_path)
    assert_one_sentence(result, "--resume expects a checkpoint of DCGAN", "GAN, not DCGAN")
    assert_quiet(result)
