"""tf.distribute: mirrored over two logical CPU devices equals one device (in
float32, and in bfloat16 to its rounding);
two local worker processes train together and write one checkpoint."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, call_main, checkpoint_step, only_on_tensorflow, run_script
from common import checkpoints, precision
from common.backends.tensorflow_distribute import check_tf_config
from common.errors import UserError
from gan.gan import main as gan_main


@pytest.mark.slow
@only_on_tensorflow("tf.distribute")
def test_mirrored_over_two_cpu_devices_equals_one_device_and_runs_dropout_and_bfloat16():
    # Tiny GAN: dense layers, BatchNorm in G (synchronised over the replicas);
    # tiny DCGAN: convolutions, BatchNorm in both, Dropout in D;
    # tiny CGAN: labels sliced with the images; tiny WGAN: 5 critic steps and
    # the clip in one step; tiny InfoGAN: a third network, Q's head. Same start,
    # same global batch of 16, 3 steps, dropout off (see the script); then the
    # DCGAN mirrored again with its dropout on; then the DCGAN in mixed_bfloat16.
    models = ["gan", "dcgan", "cgan", "wgan", "infogan", "dcgan:mixed_bfloat16"]
    result = subprocess.run([sys.executable, os.path.join(REPO, "tests", "mirrored_equivalence.py"),
                             "3", *models], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [report["model"] for report in reports] == models
    *in_float32, in_bfloat16 = reports
    for report in reports:
        assert report["replicas"] == 2 and report["weight_dtypes"] == ["float32"]
        assert report["max_change"] > 1e-4, report  # training moved the weights...
    for report in in_float32:
        assert report["compute_dtypes"] == ["float32"]
        # ...and both ways moved them alike, to float32 rounding (sums in another
        # order; InfoGAN's softmax cross-entropy over the replicas' halves more).
        # The script makes ReLU and LeakyReLU smooth in both runs: at a kink,
        # rounding could pick another slope, which Adam's first, sign-like steps
        # turn into a difference of the learning rate's size.
        assert report["max_difference"] <= (5e-5 if report["model"] == "infogan" else 1e-6), report
        assert report["max_difference"] < 0.01 * report["max_change"], report
    dcgan = reports[1]
    # Dropout acts inside the mirrored step (D's own steps and the frozen D in G's):
    # with it the weights end far from where the run without it left them.
    assert dcgan["dropout_finite"] and dcgan["dropout_effect"] > 100 * dcgan["max_difference"]
    # In bfloat16 the convolutions and dense layers compute in bfloat16 (the
    # output layers in float32) on both replicas, and the two devices end where
    # one device does, to bfloat16 rounding: nearer than bfloat16 ends to float32.
    assert in_bfloat16["precision"] == "mixed_bfloat16"
    assert in_bfloat16["compute_dtypes"] == ["bfloat16", "float32"], in_bfloat16
    assert in_bfloat16["relative_difference"] < in_bfloat16["precision_effect"], in_bfloat16


@pytest.mark.slow
@only_on_tensorflow("tf.distribute")
def test_mirrored_from_the_command_line_with_dropout_on_two_cpu_devices_and_resume(tmp_path,
                                                                                  mnist_npz):
    # DCGAN: Dropout and BatchNorm in D.
    def mirrored_run(*args):
        return run_script("dcgan/dcgan.py", "--strategy", "mirrored", "--cpu-devices", "2",
                          "--batch-size", "8", "--data", mnist_npz, "--out", str(tmp_path / "run"),
                          *args, cwd=tmp_path)

    # in bfloat16 where this CPU computes it (else float32, said in one sentence)
    result = mirrored_run("--epochs", "3", "--quiet", "--precision", "mixed_bfloat16")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Strategy: mirrored, 2 replicas (CPU:0, CPU:1)" in result.stdout
    assert checkpoint_step(tmp_path / "run") == 3
    expected = precision.choose("mixed_bfloat16", say=lambda *args, **kwargs: None)
    assert checkpoints.read_meta(str(tmp_path / "run"))["config"]["precision"] == expected
    assert (tmp_path / "run" / "saved_model" / "generator.keras").is_file()
    resumed = mirrored_run("--epochs", "5", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming from step 3" in resumed.stdout
    assert checkpoint_step(tmp_path / "run") == 5


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
@only_on_tensorflow("tf.distribute")
def test_two_local_workers_train_together_and_the_chief_writes_one_checkpoint(tmp_path,
                                                                            mnist_npz):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    out, scratch = tmp_path / "run", tmp_path / "scratch"
    scratch.mkdir()
    processes = []
    for index in range(2):
        env = dict(os.environ, TMPDIR=str(scratch), TF_CONFIG=json.dumps(
            {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(
            [sys.executable, os.path.join(REPO, "gan", "gan.py"), "--strategy", "multiworker",
             "--epochs", "4", "--batch-size", "16", "--sample-interval", "2", "--seed", "3",
             "--data", mnist_npz, "--out", str(out), "--quiet"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outputs = [p.communicate(timeout=300) for p in processes]
    finally:
        for p in processes:
            p.kill()
    for p, (stdout, stderr) in zip(processes, outputs):
        assert p.returncode == 0, stderr[-3000:]
    assert os.listdir(out / "checkpoints") == ["latest.npz"]
    assert checkpoint_step(out) == 4
    assert sorted(os.listdir(out / "images")) == ["mnist_0.png", "mnist_2.png", "mnist_3.png"]
    assert os.listdir(scratch) == []  # the worker's throw-away folder is gone


# (On JAX and PyTorch, --strategy multiworker is refused: tests/test_backends.py.)
@only_on_tensorflow("tf.distribute's MultiWorkerMirroredStrategy")
def test_multiworker_without_tf_config_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = call_main(gan_main, "--strategy", "multiworker", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "needs the TF_CONFIG environment variable" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_tf_config_is_refused(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(UserError, match="TF_CONFIG must look like"):
        check_tf_config()
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}))
    assert check_tf_config() == 2


def test_cpu_devices_need_the_mirrored_strategy(tmp_path):
    import keras
    result = call_main(gan_main, "--cpu-devices", "2", "--epochs", "1", cwd=tmp_path)
    # (PyTorch trains on one device: it refuses --cpu-devices with any strategy.)
    expected = ("need the TensorFlow or JAX backend" if keras.backend.backend() == "torch"
                else "--strategy mirrored only")
    assert result.returncode == 2 and expected in result.stderr


def test_a_batch_that_does_not_split_over_the_replicas_is_refused():
    from types import SimpleNamespace
    from common.backends.tensorflow_distribute import split_batch
    with pytest.raises(UserError, match="multiple of 4"):
        split_batch(SimpleNamespace(num_replicas_in_sync=4), [np.zeros((30, 2)), np.bool_(True)])
