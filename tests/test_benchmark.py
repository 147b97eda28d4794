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
    ("pix2pix_variants.py", ["no-such-folder", "--out", "out"], 2, "error: "),
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


def _tiny(name, tmp_path, **changes):
    """The model `name` of the benchmark on a few units and filters
    (tests/tiny.py and the models' own tests), on random data; `changes`
    its constructor's numbers."""
    import numpy as np
    from common.data import ArrayImages
    from tiny import TinyACGAN, TinyCGAN, TinyDCGAN, TinySRGAN, TinyWGAN, TinyWGANGP
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, 64).astype("int64")
    out = {"out_dir": str(tmp_path), "seed": 0, **changes}
    if name == "infogan":
        from test_infogan import TinyINFOGAN
        return TinyINFOGAN(dataset=ArrayImages(images), **out)
    if name == "pix2pix":
        from tiny import TinyPix2Pix, paired_photos
        return TinyPix2Pix(dataset=paired_photos(), **out)
    if name == "cyclegan":
        from tiny import TinyCycleGAN, unpaired_images
        return TinyCycleGAN(dataset=unpaired_images(), **out)
    if name == "srgan":
        from test_srgan import photo
        from common.photos import HighResPhotos
        photos = HighResPhotos([photo(i) for i in range(4)], [photo(10, (48, 64))], hr_size=32)
        return TinySRGAN(hr_shape=(32, 32, 3), dataset=photos, content_loss="mse", **out)
    if name in ("cgan", "acgan"):
        cls = {"cgan": TinyCGAN, "acgan": TinyACGAN}[name]
        return cls(dataset=(images, labels), **out)
    cls = {"dcgan": TinyDCGAN, "wgan": TinyWGAN, "wgan-gp": TinyWGANGP}[name]
    return cls(dataset=ArrayImages(images), **out)


def _fused_step(name, gan):
    kind = train_step_speed.MODELS[name][4]
    builder = train_step_speed.FUSED[train_step_speed.BACKEND].get(kind)
    if builder is None:
        pytest.skip(f"no hand-written {name} step on {train_step_speed.BACKEND}")
    return builder(gan)


@pytest.mark.parametrize("name", ["wgan", "wgan-gp"])
def test_the_hand_written_reference_step_trains_every_network(tmp_path, name):
    """Each backend's fused reference (the benchmark's `fused` column) of
    the Wasserstein recipes (WGAN-GP's draws its own interpolates, so it
    cannot be held against train() step for step): finite logs, G and the
    critic change; WGAN's clipped weights stay within the clip."""
    import numpy as np
    gan = _tiny(name, tmp_path)
    networks = [gan.generator, gan.discriminator]
    before = [[np.array(w) for w in net.get_weights()] for net in networks]
    step = _fused_step(name, gan)
    for _ in range(2):
        logs = step(*gan.draw_batch(gan.rng, 8))
        assert all(np.isfinite(float(value)) for value in logs)
    getattr(step, "write_back", lambda: None)()  # JAX's keeps its state apart until asked
    for net, weights in zip(networks, before):
        assert any(not np.allclose(a, b) for a, b in zip(weights, net.get_weights())), net.name
    if name == "wgan":
        clipped = [np.abs(np.array(w)).max() for w in gan.clipped_weights()]
        assert len(clipped) < len(gan.critic.trainable_weights)  # BatchNorm's scale is free
        assert max(clipped) <= gan.clip_value + 1e-7


# What each kind's fused step returns, in order: the names of train()'s logs.
FUSED_LOGS = {"auxiliary_classifier": ("d_loss", "d_acc", "op_acc", "g_loss"),
              "wasserstein": ("d_loss", "g_loss"),
              "information": ("d_loss", "d_acc", "g_loss", "q_code_loss", "q_continuous_loss")}
STEPS, BATCH = 3, 4
# The largest relative difference allowed between train() and the fused step
# after STEPS steps, in the logs and in each network's movement from the
# shared start. Float noise measured, both steps compiled alike (TensorFlow:
# XLA; JAX: jax.jit; PyTorch: the same operations): below 1e-6 in the logs
# and 2e-5 in the weights. (TensorFlow's train() without XLA against the
# fused step with it: up to 6e-2 in CycleGAN's generators, Adam turning
# float noise in nearly-zero gradients into steps of the learning rate.) A
# changed loss weight moves them by 2e-3 and more.
LOGS_TOLERANCE, WEIGHTS_TOLERANCE = 1e-5, 1e-3


def _fused_against_train(name, tmp_path, **fused_changes):
    """The largest relative differences between `STEPS` steps of `train()`'s
    compiled step and of the benchmark's fused step of `name`, from the same
    weights on the same batches: in the logs, and per network in how far the
    two moved its weights (CycleGAN's pools too). Dropout is off in both (its
    masks are draws the two steps do not share)."""
    import numpy as np
    from common.training import compiled_step
    from conftest import without_dropout
    gans = [_tiny(name, tmp_path / "train"), _tiny(name, tmp_path / "fused", **fused_changes)]
    for gan in gans:
        for network in gan.networks().values():
            without_dropout(network)
    ours, theirs = gans

    def weights(gan):
        """Each network's trainable weights (the combined model's: those of
        the networks G's step trains, InfoGAN's Q head too), or all its
        variables when it has none to train (CycleGAN's pools)."""
        return {key: [np.array(w.numpy()) for w in net.trainable_weights or net.weights]
                for key, net in gan.networks().items()}

    start = weights(ours)
    assert all(all(np.array_equal(a, b) for a, b in zip(start[key], values))
               for key, values in weights(theirs).items()), "the two start apart"
    kind = train_step_speed.MODELS[name][4]
    names = FUSED_LOGS.get(kind, ("d_loss", "d_acc", "g_loss"))
    # On TensorFlow with XLA, as the fused step: float noise is then nearly 0.
    xla = True if train_step_speed.BACKEND == "tensorflow" else None
    step, fused = compiled_step(ours, jit_compile=xla), _fused_step(name, theirs)
    rng, log_gaps = np.random.default_rng(1), []
    for _ in range(STEPS):
        batch = ours.draw_batch(rng, BATCH)
        logs, fused_logs = step(*batch), fused(*batch)
        log_gaps += [abs(float(logs[k]) - float(v)) / max(abs(float(logs[k])), 1e-3)
                     for k, v in zip(names, fused_logs)]
    getattr(fused, "write_back", lambda: None)()
    moved = {key: [w - w0 for w, w0 in zip(values, start[key])]
             for key, values in weights(ours).items()}
    weight_gaps = {}
    for key, values in weights(theirs).items():
        ours_moved = np.concatenate([m.ravel() for m in moved[key]])
        theirs_moved = np.concatenate([(w - w0).ravel() for w, w0 in zip(values, start[key])])
        weight_gaps[key] = (np.linalg.norm(ours_moved - theirs_moved)
                            / max(np.linalg.norm(ours_moved), 1e-12))
    return max(log_gaps), weight_gaps


REFERENCE_MODELS = ["dcgan", "cgan", "acgan", "srgan", "wgan", "infogan", "pix2pix", "cyclegan"]


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_the_hand_written_reference_step_is_the_recipe_of_train(tmp_path, name):
    """The benchmark's fused step of each kind of model, on this backend,
    trains what `train()` trains: three steps of each from the same weights
    on the same batches give the same logs and move every network alike
    (WGAN-GP aside: its penalty draws its own interpolates)."""
    log_gap, weight_gaps = _fused_against_train(name, tmp_path)
    assert log_gap < LOGS_TOLERANCE, log_gap
    assert max(weight_gaps.values()) < WEIGHTS_TOLERANCE, weight_gaps


@pytest.mark.parametrize("name, change", [("infogan", {"continuous_weight": 1.0}),
                                          ("cyclegan", {"lambda_id": 0.5})])
def test_the_comparison_with_train_sees_a_changed_recipe_number(tmp_path, name, change):
    """The comparison above fails when the fused step's recipe is not train()'s:
    here a loss weight of the model the fused step is built from."""
    log_gap, weight_gaps = _fused_against_train(name, tmp_path, **change)
    assert log_gap >= LOGS_TOLERANCE or max(weight_gaps.values()) >= WEIGHTS_TOLERANCE, \
        (log_gap, weight_gaps)
