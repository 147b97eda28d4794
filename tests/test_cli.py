"""The model scripts as a user runs them: from another directory, with good and bad flags."""
import os

import keras
import numpy as np
import pytest

from conftest import call_main, run_script
from dcgan.dcgan import main as dcgan_main
from gan.gan import main as gan_main


@pytest.mark.slow
def test_dcgan_script_from_another_directory_writes_into_out(tmp_path, mnist_npz):
    # A real process: `python <repo>/dcgan/dcgan.py` finds common/ from anywhere.
    work, out = tmp_path / "elsewhere", tmp_path / "run"
    work.mkdir()
    result = run_script("dcgan/dcgan.py", "--epochs", "3", "--sample-interval", "2",
                        "--batch-size", "8", "--out", str(out), "--seed", "1",
                        "--data", mnist_npz, cwd=work)
    assert result.returncode == 0, result.stderr
    assert "MNIST:" in result.stdout
    assert sorted(os.listdir(out / "images")) == ["mnist_0.png", "mnist_2.png"]
    generator = keras.models.load_model(out / "saved_model" / "generator.keras")
    assert generator.predict(np.zeros((1, 100)), verbose=0).shape == (1, 28, 28, 1)
    assert os.listdir(work) == []  # nothing written where the user stood


def test_gan_script_trains_on_sine_paintings(tmp_path):
    result = call_main(gan_main, "--dataset", "sine", "--epochs", "2", "--out",
                        str(tmp_path), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.exists(tmp_path / "images" / "sine_1.png")


@pytest.mark.parametrize("script", ["gan", "dcgan"])
def test_help_explains_that_an_epoch_is_one_batch(script, tmp_path):
    script = {"gan": gan_main, "dcgan": dcgan_main}[script]
    result = call_main(script, "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert '"epoch" is one batch' in text and "--sample-interval" in text


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "positive integer"),
    (["--batch-size", "-4"], "positive integer"),
    (["--dataset", "cifar"], "invalid choice"),
    (["--dataset", "celeba", "--data", "/no/such/folder"], "/no/such/folder does not exist"),
    (["--data", "/no/such/mnist.npz"], "/no/such/mnist.npz does not exist"),
    (["--real-label", "1.5"], "(0, 1]"),
])
def test_bad_flags_end_with_one_clear_message(args, message, tmp_path):
    result = call_main(dcgan_main, *args, "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_folder_is_reported_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    result = call_main(gan_main, "--out", str(blocker / "out"), "--epochs", "2",
                        cwd=tmp_path)
    assert result.returncode != 0
    assert "cannot be written" in result.stderr and "Traceback" not in result.stderr
