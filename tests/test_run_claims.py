"""One run per folder at a time, and what a folder's run promises: a live run
is never touched by a second process (common/run_lock.py), a dead one's claim
is taken over; --out and --data kept apart; every file a run leaves there
after Ctrl-C at any moment; advice after a lost checkpoint that leads
somewhere; the same object training on."""
import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from common import checkpoints, data
from common.errors import UserError
from common.run_lock import RunLock
from test_run_safety import TinyGAN, _files, _gan, _train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What the README says a run leaves in --out, finished or stopped with Ctrl-C.
PROMISED = ("saved_model/generator.keras", "saved_model/discriminator.keras",
            "checkpoints/latest.npz", "history.csv", "losses.png", "samples.gif")


def _missing(out):
    return [name for name in PROMISED if not os.path.isfile(os.path.join(out, name))]


def _history_steps(out):
    with open(os.path.join(out, "history.csv"), newline="") as handle:
        return [int(row["step"]) for row in csv.DictReader(handle)]


# ---------------------------------------------------------------------------
# One run per folder, at a time
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("flags", [{}, {"overwrite": True}, {"resume": True}])
def test_a_folder_in_use_is_refused_whatever_the_flags_and_left_untouched(tmp_path, flags):
    out = tmp_path / "run"
    _train(_gan(out), 3)
    before = _files(out)
    with RunLock(str(out)):  # as a live run holds it (another object, or process)
        with pytest.raises(UserError) as error:
            _train(_gan(out, seed=1), 6, **flags)
    message = str(error.value)
    assert "is in use by a run that is still training" in message
    assert f"process {os.getpid()}" in message and "since " in message
    assert _files(out) == before


def test_a_claim_left_by_a_dead_run_is_taken_over_and_said(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    # What a run killed by SIGKILL or a power cut leaves: a claim still marked
    # running whose lock no process holds.
    (out / ".run.lock").write_text('{"pid": 999999, "host": "elsewhere", "since": 0, '
                                   '"running": true}')
    _train(_gan(out), 2)
    err = capsys.readouterr().err
    assert "taking over" in err and "process 999999" in err
    assert checkpoints.read_meta(str(out))["step"] == 2
    with RunLock(str(out)):  # and the finished run gave the folder back
        pass


def _script(out, *args, stdout=subprocess.PIPE):
    return [sys.executable, os.path.join(REPO, "gan", "gan.py"), "--out", str(out),
            "--batch-size", "8", "--seed", "0", *args]


@pytest.mark.slow
def test_real_processes_one_live_run_per_folder_then_a_killed_one_taken_over(tmp_path):
    out = tmp_path / "run"
    live = subprocess.Popen(_script(out, "--epochs", "1000000", "--sample-interval", "5"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        deadline = time.time() + 300
        while not os.path.exists(checkpoints.checkpoint_path(str(out))):
            assert live.poll() is None, live.communicate()
            assert time.time() < deadline, "no checkpoint appeared"
            time.sleep(0.2)
        for flags in ([], ["--overwrite"], ["--resume"]):
            second = subprocess.run(_script(out, "--epochs", "3", *flags), capture_output=True,
                                    text=True, timeout=300, cwd=tmp_path)
            assert second.returncode == 2, second
            lines = [line for line in second.stderr.splitlines() if line.startswith("error:")]
            assert len(lines) == 1 and "Traceback" not in second.stderr
            assert "is in use by a run that is still training" in lines[0]
            assert f"process {live.pid}" in lines[0]
            assert live.poll() is None  # and the live run goes on, its files kept
            assert os.path.exists(checkpoints.checkpoint_path(str(out)))
            assert os.path.exists(out / "saved_model" / "generator.keras")
    finally:
        live.kill()
        live.wait()
    step = checkpoints.read_meta(str(out))["step"]
    resumed = subprocess.run(_script(out, "--epochs", str(step + 2), "--resume", "--quiet"),
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "taking over" in resumed.stderr and f"process {live.pid}" in resumed.stderr
    assert checkpoints.read_meta(str(out))["step"] == step + 2


# ---------------------------------------------------------------------------
# Outputs never become inputs
# ---------------------------------------------------------------------------

def _image_folder(folder, n=12):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for k in range(n):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(folder / f"{k}.png")
    return folder


@pytest.mark.parametrize("where", ["out inside data", "data inside out"])
def test_out_and_data_inside_one_another_are_refused_before_anything_is_written(tmp_path,
                                                                              where):
    if where == "out inside data":
        folder = _image_folder(tmp_path / "photos")
        out = folder / "run"
    else:
        out = tmp_path / "run"
        folder = _image_folder(out / "images")  # what --overwrite would remove
    images = data.ImageFolder(str(folder), img_size=28, channels=1, verbose=False)
    gan = TinyGAN(dataset=images, latent_dim=8, out_dir=str(out), seed=0)
    with pytest.raises(UserError) as error:
        _train(gan, 2, overwrite=True)
    assert ("is inside the --data folder" if where == "out inside data"
            else "is inside the --out folder") in str(error.value)
    assert not (out / "saved_model").exists() and not (out / ".run.lock").exists()
    assert len(os.listdir(folder)) == 12


def test_the_command_line_refuses_an_out_inside_its_data_on_every_run(tmp_path):
    from conftest import call_main  # in this process: the refusal, not a new Python, is the point
    from gan.gan import main
    folder = _image_folder(tmp_path / "digits")
    for flags in ([], ["--overwrite"], ["--resume"]):
        result = call_main(main, *_script(folder / "run", "--data", str(folder), "--epochs", "2",
                                          *flags)[2:], cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "is inside the --data folder" in result.stderr and "Traceback" not in result.stderr
    assert sorted(os.listdir(folder)) == sorted(f"{k}.png" for k in range(12))


# ---------------------------------------------------------------------------
# What a stopped run promises is there, whenever Ctrl-C comes
# ---------------------------------------------------------------------------

class CtrlCAt(TinyGAN):
    """Presses Ctrl-C (a real SIGINT to this process) at one moment of the run:
    while drawing the batch of step `at`, or while saving the sample of step `at`."""

    at, moment = 0, "draw"

    def draw_batch(self, rng, batch_size):
        if self.moment == "draw" and self._step == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        self._step += 1
        return super().draw_batch(rng, batch_size)

    def sample_images(self, step):
        if self.moment == "save" and step == self.at:
            os.kill(os.getpid(), signal.SIGINT)
        return super().sample_images(step)


@pytest.mark.parametrize("at, moment", [(0, "draw"), (3, "draw"), (2, "save"), (4, "save")])
def test_ctrl_c_at_any_moment_leaves_every_promised_file(tmp_path, at, moment):
    out = tmp_path / "run"
    gan = _gan(out, cls=CtrlCAt)
    gan.at, gan.moment, gan._step = at, moment, 0
    with pytest.raises(KeyboardInterrupt):
        _train(gan, 50)
    assert _missing(str(out)) == []
    # The batch of step `at` is drawn while step at-1 runs (common/prefetch.py),
    # so a Ctrl-C then stops after step at-1 (the first batch is drawn before step 0).
    stopped = max(at - 1, 0) if moment == "draw" else at
    step = checkpoints.read_meta(str(out))["step"]
    assert step == stopped + 1
    assert _history_steps(str(out))[-1] == stopped
    with Image.open(out / "samples.gif") as gif:
        assert gif.n_frames >= 1


# ---------------------------------------------------------------------------
# Advice after a lost checkpoint
# ---------------------------------------------------------------------------

def test_after_a_lost_checkpoint_both_commands_point_to_what_works(tmp_path):
    out = tmp_path / "run"
    _train(_gan(out), 3)
    os.remove(checkpoints.checkpoint_path(str(out)))
    with pytest.raises(UserError) as plain:
        _train(_gan(out), 3)
    with pytest.raises(UserError) as resumed:
        _train(_gan(out), 3, resume=True)
    for error in (plain, resumed):
        message = str(error.value)
        assert "--overwrite" in message and "another --out" in message
        assert "--resume" not in message.replace("without --resume", "")
        assert "without --resume" not in message  # it would be refused in turn
    _train(_gan(out), 3, overwrite=True)  # and what it says works
    assert checkpoints.read_meta(str(out))["step"] == 3


def test_resume_where_there_is_no_run_says_start_one(tmp_path):
    with pytest.raises(UserError, match="start a new run there without --resume"):
        _train(_gan(tmp_path / "empty"), 3, resume=True)


# ---------------------------------------------------------------------------
# The same object trains on
# ---------------------------------------------------------------------------

def test_train_called_again_on_the_same_object_continues_its_run_exactly(tmp_path, capsys):
    straight = _gan(tmp_path / "straight")
    _train(straight, 5)
    notebook = _gan(tmp_path / "notebook")
    _train(notebook, 3)
    _train(notebook, 2)  # 2 more steps, as Keras' fit called again
    assert "Continuing the run" in capsys.readouterr().out
    assert checkpoints.read_meta(str(tmp_path / "notebook"))["step"] == 5
    assert _history_steps(str(tmp_path / "notebook")) == [0, 1, 2, 3, 4]
    for a, b in zip(straight.generator.get_weights() + straight.discriminator.get_weights(),
                    notebook.generator.get_weights() + notebook.discriminator.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    with pytest.raises(UserError, match="already holds a run"):  # another object needs resume
        _train(_gan(tmp_path / "notebook"), 2)


def test_the_same_object_does_not_continue_a_run_another_process_replaced(tmp_path):
    first = _gan(tmp_path / "run")
    _train(first, 3)
    _train(_gan(tmp_path / "run", seed=1), 4, overwrite=True)  # someone started it over
    with pytest.raises(UserError, match="already holds a run"):
        _train(first, 2)
