"""The speed benchmark runs (a few steps of the MLP GAN) and its tables hold
what it measured, so it cannot rot."""
import csv
import os
import sys

import pytest

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import train_step_speed  # noqa: E402


@pytest.mark.slow
def test_benchmark_writes_its_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(train_step_speed, "matmul_rate", lambda **kwargs: 1e10)  # its 3 s
    rows = train_step_speed.main(["--models", "gan", "--steps", "1", "--warmup", "1",
                                  "--rounds", "1", "--out", str(tmp_path)])
    assert [(row["model"], row["precision"]) for row in rows] == [("gan", "float32")]
    row = rows[0]
    assert row["train_speedup"] == 1.0  # against itself: float32 is the first precision
    # The MLP recipe's multiply-adds at batch 32: G 100-256-512-1024-784, D 784-512-256-1;
    # a step is G forward, two D training passes, one combined training pass (3x forward).
    g = 2 * 32 * (100 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784)
    d = 2 * 32 * (784 * 512 + 512 * 256 + 256 * 1)
    assert row["gflop_per_step"] == pytest.approx((g + 2 * 3 * d + 3 * (g + d)) / 1e9)
    for key in ("train_ms", "plain_ms", "fused_ms"):
        assert 0 < row[key] < 60_000, key
    assert row["train_vs_fused"] == pytest.approx(row["fused_ms"] / row["train_ms"])
    assert row["train_vs_plain"] == pytest.approx(row["plain_ms"] / row["train_ms"])
    assert row["train_matmul_fraction"] == pytest.approx(
        row["gflop_per_step"] * 1e9 / (row["train_ms"] / 1e3) / 1e10)
    assert row["eval_pct"] == 0.0  # the GAN evaluates nothing at its intervals
    assert row["overhead_pct"] == pytest.approx(row["save_pct"] + row["loop_pct"])
    with open(tmp_path / "results.csv") as handle:
        written, = list(csv.DictReader(handle))
    assert written["model"] == "gan" and written["backend"] == train_step_speed.BACKEND
    assert float(written["train_ms"]) == pytest.approx(row["train_ms"])
    table = (tmp_path / "results.md").read_text()
    assert (f"| {row['backend']} | gan | float32 | 32 | {row['train_ms']:.1f} | 1.00x | "
            f"{row['plain_ms']:.1f} |") in table
    assert "CPU:" in table or "GPU:" in table


@pytest.mark.skipif(train_step_speed.BACKEND != "tensorflow", reason="TensorFlow's refusal")
def test_benchmark_has_no_eager_column_on_tensorflow(capsys):
    with pytest.raises(SystemExit):
        train_step_speed.main(["--models", "gan", "--variants", "train,eager"])
    assert "still a tf.function" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("script, args, status, says", [
    ("train_step_speed.py", ["--help"], 0, "How fast is each model"),
    ("srgan_heldout.py", ["no-such-generator.keras"], 2,
     "error: benchmarks/srgan_heldout.py expects SRGAN's generator"),
])
def test_benchmarks_are_as_quiet_as_training_and_a_wrong_file_is_one_sentence(
        script, args, status, says, tmp_path):
    """Run from another folder as a user would: only the zoo's lines, no
    TensorFlow start-up chatter, and no traceback."""
    import subprocess
    from test_wrong_artefacts import CHATTER
    # As a user's shell has it: this process's imports set TF_CPP_MIN_LOG_LEVEL.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", script), *args],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == status, result.stderr
    assert says in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not [word for word in CHATTER if word in result.stderr], result.stderr


def _tiny(name, tmp_path):
    import numpy as np
    from common.data import ArrayImages
    from tiny import TinyWGAN, TinyWGANGP
    digits = ArrayImages(np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32"))
    if name == "infogan":
        from test_infogan import TinyINFOGAN
        return TinyINFOGAN(dataset=digits, out_dir=str(tmp_path), seed=0)
    cls = {"wgan": TinyWGAN, "wgan-gp": TinyWGANGP}[name]
    return cls(dataset=digits, out_dir=str(tmp_path), seed=0)


@pytest.mark.parametrize("name", ["wgan", "wgan-gp", "infogan"])
def test_the_hand_written_reference_step_trains_every_network(tmp_path, name):
    """Each backend's fused reference (the benchmark's `fused` column) of the
    newer recipes: finite logs, and G, the critic (and InfoGAN's Q head)
    change; WGAN's critic stays within its clip."""
    import numpy as np
    kind = train_step_speed.MODELS[name][4]
    builder = train_step_speed.FUSED[train_step_speed.BACKEND].get(kind)
    if builder is None:
        pytest.skip(f"no hand-written {name} step on {train_step_speed.BACKEND}")
    gan = _tiny(name, tmp_path)
    networks = [gan.generator, gan.discriminator] + ([gan.q_head] if name == "infogan" else [])
    before = [[np.array(w) for w in net.get_weights()] for net in networks]
    step = builder(gan)
    for _ in range(2):
        logs = step(*gan.draw_batch(gan.rng, 8))
        assert all(np.isfinite(float(value)) for value in logs)
    getattr(step, "write_back", lambda: None)()  # JAX's keeps its state apart until asked
    for net, weights in zip(networks, before):
        assert any(not np.allclose(a, b) for a, b in zip(weights, net.get_weights())), net.name
    if name == "wgan":
        assert max(np.abs(w).max() for w in gan.critic.trainable_weights) <= gan.clip_value + 1e-7
