"""Runs you can stop and pick up again: checkpoints, resume, Ctrl-C, SIGKILL, NaN."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import REPO, checkpoint_step as checkpoints_step
from common import checkpoints
from common.data import ArrayImages
from common.errors import UserError
from tiny import TinyDCGAN, TinyGAN


@pytest.fixture
def digits(mnist):
    """256 MNIST digits as a data set (a new one for each model: each keeps its own state)."""
    return lambda: ArrayImages(mnist[0][:256])


def test_resume_equals_straight_run(tmp_path, digits):
    # DCGAN's networks: BatchNorm moving statistics and dropout seeds must resume too.
    cls, steps = TinyDCGAN, 2
    straight = cls(dataset=digits(), out_dir=str(tmp_path / "straight"), seed=5)
    straight.train(epochs=2 * steps, batch_size=8, sample_interval=steps, quiet=True)

    first = cls(dataset=digits(), out_dir=str(tmp_path / "resumed"), seed=5)
    first.train(epochs=steps, batch_size=8, sample_interval=steps, quiet=True)
    # A new process would build a new object, with other initial weights:
    second = cls(dataset=digits(), out_dir=str(tmp_path / "resumed"), seed=99)
    second.train(epochs=2 * steps, batch_size=8, sample_interval=steps, quiet=True, resume=True)

    assert second.jit_compile == straight.jit_compile  # the step compiled as before
    for a, b in zip(checkpoints._state_variables(straight), checkpoints._state_variables(second)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=a.path)
    history = (tmp_path / "resumed" / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in history[1:]] == [str(i) for i in range(2 * steps)]


def test_default_run_writes_history_loss_plot_gif_and_tensorboard(tmp_path, digits):
    gan = TinyGAN(dataset=digits(), out_dir=str(tmp_path), seed=0)
    gan.train(epochs=5, batch_size=8, sample_interval=2, quiet=True, tensorboard=True)
    lines = (tmp_path / "history.csv").read_text().splitlines()
    assert lines[0] == "step,d_loss,d_acc,g_loss" and len(lines) == 6
    import imageio.v3 as iio
    assert iio.imread(tmp_path / "losses.png").ndim == 3
    gif = iio.imread(tmp_path / "samples.gif", index=None)
    assert gif.shape[0] == 3  # the grids of steps 0, 2 and 4 (the last)
    events = os.listdir(tmp_path / "logs")
    assert events and events[0].startswith("events.out.tfevents")


def test_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, digits):
    class Exploding(TinyGAN):
        def draw_batch(self, rng, batch_size):
            imgs, *noise = super().draw_batch(rng, batch_size)
            if self.calls >= 3:
                imgs = imgs * np.nan
            self.calls += 1
            return (imgs, *noise)

    gan = Exploding(dataset=digits(), out_dir=str(tmp_path), seed=0)
    gan.calls = 0
    with pytest.raises(UserError, match="not finite"):
        gan.train(epochs=10, batch_size=8, sample_interval=2, quiet=True)
    fresh = TinyGAN(dataset=digits(), out_dir=str(tmp_path), seed=0)
    assert checkpoints.load_checkpoint(fresh)["step"] == 3  # saved after step index 2
    assert all(np.isfinite(v.numpy()).all() for v in fresh.generator.weights)


def test_resume_without_checkpoint_is_one_clear_sentence(tmp_path):
    with pytest.raises(UserError, match="No checkpoint to resume from"):
        TinyGAN(out_dir=str(tmp_path), seed=0).train(epochs=2, quiet=True, resume=True)


def test_checkpoint_of_another_model_is_refused(tmp_path, digits):
    TinyGAN(dataset=digits(), out_dir=str(tmp_path), seed=0).train(
        epochs=1, batch_size=8, quiet=True)
    with pytest.raises(UserError, match="different model"):
        TinyDCGAN(dataset=digits(), out_dir=str(tmp_path), seed=0).train(
            epochs=2, batch_size=8, quiet=True, resume=True)


def _start(out, data, *args):
    # A real child process; signals sent to it reach Python as they would from a terminal.
    return subprocess.Popen(
        [sys.executable, os.path.join(REPO, "gan", "gan.py"), "--out", str(out), "--data", data,
         "--batch-size", "8", "--seed", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoint(out, process, timeout=300):
    path = checkpoints.checkpoint_path(str(out))
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "no checkpoint appeared"
        time.sleep(0.2)
    return path


def _resume(out, data, epochs):
    return subprocess.run(
        [sys.executable, os.path.join(REPO, "gan", "gan.py"), "--out", str(out), "--data", data,
         "--batch-size", "8", "--epochs", str(epochs), "--sample-interval", "1000",
         "--resume", "--quiet"], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_sigkill_then_ctrl_c_leave_checkpoints_resume_can_use(tmp_path, mnist_npz):
    """A GAN run killed with SIGKILL, resumed, stopped with Ctrl-C, resumed
    again: each resume continues from the last checkpoint, none is corrupt.
    (One chain of processes: each new Python costs seconds of imports. The
    MLP GAN, because its steps compile fastest: the saving code is shared.)"""
    # A checkpoint every step, so the kill very likely lands during a save.
    process = _start(tmp_path, mnist_npz, "--epochs", "100000", "--sample-interval", "1",
                     "--quiet")
    _wait_for_checkpoint(tmp_path, process)
    time.sleep(1.5)
    process.kill()
    process.communicate(timeout=60)
    killed_at = checkpoints_step(tmp_path)
    assert killed_at >= 1

    # Resume, and press Ctrl-C once the resumed run has saved a step of its own.
    process = _start(tmp_path, mnist_npz, "--epochs", "100000", "--sample-interval", "1",
                     "--resume")
    deadline = time.time() + 300
    while checkpoints_step(tmp_path) <= killed_at:
        assert process.poll() is None, process.communicate()
        assert time.time() < deadline, "the resumed run saved no checkpoint"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert f"Resuming from step {killed_at:,}" in out
    assert "checkpoint saved to" in err and "--resume" in err
    assert "Traceback" not in err
    stopped_at = checkpoints_step(tmp_path)
    assert stopped_at > killed_at

    result = _resume(tmp_path, mnist_npz, stopped_at + 2)
    assert result.returncode == 0, result.stderr
    assert checkpoints_step(tmp_path) == stopped_at + 2
