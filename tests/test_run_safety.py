"""A run is never lost, and says what it does: one run per --out folder,
saves that never leave half-written files, resume that checks its flags,
readable progress in a log file, XLA that falls back, loaders that count
each bad file once, outputs outside site-packages."""
import errno
import functools
import importlib.util
import io
import json
import os
import re
import shutil
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import call_main, checkpoint_step, only_on_tensorflow
from common import checkpoints, data, training
from common.backends import tensorflow as tensorflow_backend
from common.data import ArrayImages
from common.errors import UserError
from common.files import remove_stale_partials, replaced_atomically
from common.run_state import run_state
from dcgan.dcgan import DCGAN
from gan.gan import GAN
from gan.gan import main as gan_main


@functools.lru_cache(maxsize=1)
def _mnist():
    images, labels = data.load_mnist(verbose=False)  # seconds: it looks for a download first
    return images[:64], labels[:64]


def _digits():
    return ArrayImages(_mnist()[0])


def _mnist_npz(folder):
    """The same 64 digits as an mnist.npz for --data, in the 0-255 bytes Keras saves."""
    images, labels = _mnist()
    path = folder / "mnist.npz"
    np.savez(path, x_train=np.round((images[..., 0] + 1) * 127.5).astype(np.uint8),
             y_train=labels)
    return path


class TinyGAN(GAN):
    """The MLP GAN's recipe with much smaller networks: these tests are about
    the run around the model, and small networks compile in a fraction of the time."""

    def build_generator(self):
        stack = keras.Sequential([
            keras.Input(shape=(self.latent_dim,)),
            keras.layers.Dense(16),
            keras.layers.LeakyReLU(negative_slope=0.2),
            keras.layers.BatchNormalization(momentum=0.8),
            keras.layers.Dense(int(np.prod(self.img_shape)), activation="tanh"),
            keras.layers.Reshape(self.img_shape),
        ], name="generator_stack")
        noise = keras.Input(shape=(self.latent_dim,))
        return keras.Model(noise, stack(noise), name="generator")

    def build_discriminator(self):
        stack = keras.Sequential([
            keras.Input(shape=self.img_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(16),
            keras.layers.LeakyReLU(negative_slope=0.2),
            keras.layers.Dense(1, activation="sigmoid"),
        ], name="discriminator_stack")
        img = keras.Input(shape=self.img_shape)
        return keras.Model(img, stack(img), name="discriminator")


def _gan(out, latent_dim=8, seed=0, cls=TinyGAN, **kwargs):
    return cls(dataset=_digits(), latent_dim=latent_dim, out_dir=str(out), seed=seed, **kwargs)


def _train(gan, epochs, **options):
    # No XLA unless a test is about it: a plain graph compiles in a fraction of the time.
    options = {"batch_size": 8, "sample_interval": 2, "quiet": True, "jit_compile": False,
               **options}
    return gan.train(epochs=epochs, **options)


def _partials(folder):
    return [os.path.join(root, name) for root, _, names in os.walk(folder)
            for name in names if ".partial-" in name]


def _files(folder):
    """The run's files and their bytes (not the folder's lock, which every
    process that asks for the folder takes for a moment: common/run_lock.py)."""
    return {os.path.relpath(os.path.join(root, name), folder): open(os.path.join(root, name),
                                                                    "rb").read()
            for root, _, names in os.walk(folder) for name in names if name != ".run.lock"}


@pytest.fixture(scope="module")
def three_steps(tmp_path_factory):
    """A finished run of 3 steps (grids of steps 0 and 2, checkpoint at 3),
    trained once for this file's tests; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("three_steps")
    _train(_gan(folder), 3)
    return folder


def _copy(run, tmp_path):
    return Path(shutil.copytree(run, tmp_path / "run"))


# ---------------------------------------------------------------------------
# 1. One run per folder
# ---------------------------------------------------------------------------

def test_a_new_run_where_a_run_is_refuses_and_leaves_that_run_untouched(three_steps, tmp_path):
    run = _copy(three_steps, tmp_path)
    before = _files(run)
    with pytest.raises(UserError) as error:
        _train(_gan(run, seed=1), 5)
    message = str(error.value)
    assert str(run) in message and "at step 3" in message
    assert "--resume" in message and "--overwrite" in message and "another --out" in message
    assert _files(run) == before


def test_overwrite_starts_over_keeps_other_files_and_the_gif_shows_only_the_new_run(
        three_steps, tmp_path):
    import imageio.v3 as iio
    run = _copy(three_steps, tmp_path)  # grids of steps 0 and 2
    (run / "notes.txt").write_text("mine")
    _train(_gan(run, seed=1), 2, sample_interval=1, overwrite=True)  # grids 0 and 1
    assert sorted(os.listdir(run / "images")) == ["mnist_0.png", "mnist_1.png"]
    assert checkpoint_step(run) == 2
    assert len((run / "history.csv").read_text().splitlines()) == 1 + 2
    assert iio.imread(run / "samples.gif", index=None).shape[0] == 2
    assert (run / "notes.txt").read_text() == "mine"


def test_resume_and_overwrite_together_are_refused(tmp_path):
    with pytest.raises(UserError, match="choose one"):
        training.claim_out_dir(str(tmp_path), resume=True, overwrite=True)


def test_the_command_line_refuses_a_second_run_in_one_sentence(three_steps, tmp_path):
    run = _copy(three_steps, tmp_path)
    again = call_main(gan_main, "--epochs", "5", "--data", _mnist_npz(tmp_path), "--out", run,
                      "--quiet", cwd=tmp_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert again.stderr.count("\n") == 1 and again.stderr.startswith("error: ")
    assert "already holds a run (at step 3)" in again.stderr
    both = call_main(gan_main, "--resume", "--overwrite", "--data", _mnist_npz(tmp_path),
                     "--out", run, cwd=tmp_path)
    assert both.returncode == 2 and "choose one" in both.stderr  # the flag reaches the run
    assert checkpoint_step(run) == 3


def test_quiet_still_says_what_is_resumed_where_the_outputs_go_and_what_changed(
        three_steps, tmp_path, capsys):
    run = _copy(three_steps, tmp_path)
    _train(_gan(run), 4, resume=True, quiet=True, sample_interval=1000)
    out, err = capsys.readouterr()
    assert "Resuming from step 3" in out
    assert "Outputs go to" in out and "Samples in" in out
    assert not re.search(r"\d/4 - ", out)  # no progress line
    assert "--sample-interval was 2 in this run until now; it goes on with 1000" in err
    assert checkpoint_step(run) == 4


def test_a_resumed_run_drops_the_grids_of_steps_its_checkpoint_does_not_have(
        three_steps, tmp_path):
    run = _copy(three_steps, tmp_path)
    # As if the interrupted run had saved the grid of step 10 but not its checkpoint:
    (run / "images" / "mnist_10.png").write_bytes((run / "images" / "mnist_2.png").read_bytes())
    _train(_gan(run), 4, resume=True)
    assert sorted(os.listdir(run / "images")) == ["mnist_0.png", "mnist_2.png", "mnist_3.png"]


# ---------------------------------------------------------------------------
# 2. Saves never leave half-written files under final names
# ---------------------------------------------------------------------------

def test_an_interrupted_model_save_leaves_no_file_behind(tmp_path, monkeypatch):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    def second_ctrl_c_while_saving(self, path, *args, **kwargs):
        assert ".partial-" in os.path.basename(path)  # never the final name
        with open(path, "wb") as handle:
            handle.write(b"half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", second_ctrl_c_while_saving)
    with pytest.raises(KeyboardInterrupt):
        training.save_model_atomically(model, str(tmp_path / "discriminator.keras"))
    assert os.listdir(tmp_path) == []


def test_partial_files_of_killed_runs_are_removed_and_those_of_live_ones_kept(tmp_path):
    dead, alive = 2 ** 22 + 12345, os.getpid()
    for pid in (dead, alive):
        (tmp_path / f"generator.partial-{pid}.keras").write_bytes(b"x")
    (tmp_path / "generator.keras").write_bytes(b"final")
    remove_stale_partials(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["generator.keras", f"generator.partial-{alive}.keras"]
    with replaced_atomically(str(tmp_path / "a.png")) as tmp:
        open(tmp, "wb").close()
    assert (tmp_path / "a.png").is_file() and not any(".partial-" in p and "a.png" in p
                                                       for p in os.listdir(tmp_path))


def test_a_full_disk_while_saving_is_one_sentence_and_keeps_the_last_checkpoint(
        three_steps, tmp_path, monkeypatch):
    run = _copy(three_steps, tmp_path)
    real_save, calls = training.save_model_atomically, []

    def disk_full_at_the_second_interval(model, path):
        calls.append(path)
        if len(calls) < 2:
            return real_save(model, path)
        with replaced_atomically(path, keep_extension=True) as tmp:
            open(tmp, "wb").close()
            raise OSError(errno.ENOSPC, "No space left on device", tmp)

    monkeypatch.setattr(training, "save_model_atomically", disk_full_at_the_second_interval)
    with pytest.raises(UserError) as error:  # saves after steps 4 and 6; the second fails
        _train(_gan(run), 8, resume=True)
    message = str(error.value)
    assert f"Could not write to {run / 'saved_model'}" in message
    assert "No space left on device" in message and "checkpoint (step 5)" in message
    assert checkpoint_step(run) == 5
    assert _partials(run) == []


# ---------------------------------------------------------------------------
# 3. --resume to a step already reached
# ---------------------------------------------------------------------------

def test_resume_at_or_past_the_requested_steps_says_so_and_changes_nothing(
        three_steps, tmp_path, capsys):
    run = _copy(three_steps, tmp_path)
    before = _files(run)
    gan = _gan(run)
    for epochs in (3, 2):
        assert _train(gan, epochs, resume=True) == {}
        out = capsys.readouterr().out
        assert "already at step 3" in out and "Trained" not in out
    assert _files(run) == before


def test_a_run_killed_at_its_end_gets_its_final_files_when_resumed(three_steps, tmp_path,
                                                                   capsys):
    """SIGKILL or a power cut after the last checkpoint but before the end:
    a resume with nothing to train writes what the end would have written."""
    run = _copy(three_steps, tmp_path)
    os.remove(run / "saved_model" / "discriminator.keras")
    os.remove(run / "samples.gif")
    kept = _files(run)
    gan = _gan(run)
    assert _train(gan, 3, resume=True) == {}
    assert "Wrote what the run had not written at its end: saved_model/discriminator.keras, " \
           "samples.gif" in capsys.readouterr().out
    saved = keras.models.load_model(run / "saved_model" / "discriminator.keras")
    for mine, loaded in zip(gan.discriminator.weights, saved.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(mine),
                                      keras.ops.convert_to_numpy(loaded))
    now = _files(run)
    assert all(now[name] == kept[name] for name in kept)  # the rest untouched
    assert len(iio_frames(run / "samples.gif")) == 2  # the grids of steps 0 and 2


def iio_frames(path):
    import imageio.v3 as iio
    return iio.imread(path, index=None)


# ---------------------------------------------------------------------------
# 4. The checkpoint stores the run's flags; variables restored by path
# ---------------------------------------------------------------------------

def _rewrite_meta(out, change):
    """Rewrite the checkpoint in `out` after `change(arrays, meta)`."""
    path = checkpoints.checkpoint_path(str(out))
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    change(arrays, meta)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def test_the_checkpoint_records_the_runs_configuration(three_steps):
    meta = checkpoints.read_meta(str(three_steps))
    assert meta["config"] == {"img_shape": [28, 28, 1], "latent_dim": 8, "batch_size": 8,
                              "sample_interval": 2, "precision": "float32"}
    assert len(meta["paths"]) == meta["variables"] - 1  # every variable, and the sample noise
    assert meta["model"] == "TinyGAN"
    dcgan = DCGAN(latent_dim=8, real_label=0.9, out_dir="unused")
    assert checkpoints.run_config(dcgan, batch_size=4) == {
        "img_shape": [28, 28, 1], "latent_dim": 8, "real_label": 0.9, "batch_size": 4}
    assert "real_label" in checkpoints.MAY_CHANGE and "latent_dim" not in checkpoints.MAY_CHANGE


def test_resume_with_another_latent_size_names_the_flag_and_both_values(three_steps, tmp_path):
    run = _copy(three_steps, tmp_path)
    with pytest.raises(UserError, match=r"trained with --latent-dim 8, not 4: resume with "
                                        r"--latent-dim 8"):
        _train(_gan(run, latent_dim=4), 4, resume=True)
    assert checkpoint_step(run) == 3


def test_resume_with_another_batch_size_warns_and_goes_on(three_steps, tmp_path, capsys):
    run = _copy(three_steps, tmp_path)
    _train(_gan(run), 4, resume=True, batch_size=4)
    assert "--batch-size was 8 in this run until now; it goes on with 4" in capsys.readouterr().err
    meta = checkpoints.read_meta(str(run))
    assert meta["step"] == 4 and meta["config"]["batch_size"] == 4


def _stored_arrays(run):
    with np.load(checkpoints.checkpoint_path(str(run))) as npz:
        return [npz[f"v{i}"] for i in range(len(checkpoints.read_meta(str(run))["paths"]))]


def test_variables_are_restored_by_path_not_position(three_steps, tmp_path):
    run = _copy(three_steps, tmp_path)
    expected = _stored_arrays(run)  # in the order of the model's variables

    def sort_by_name(arrays, meta):  # D's variables before G's, optimizers first ...
        order = sorted(range(len(meta["paths"])),
                       key=lambda i: checkpoints._normalised(meta["paths"][i]))
        values = [arrays.pop(f"v{i}") for i in range(len(order))]
        for new, old in enumerate(order):
            arrays[f"v{new}"] = values[old]
        meta["paths"] = [meta["paths"][old] for old in order]

    _rewrite_meta(run, sort_by_name)
    assert [a.shape for a in _stored_arrays(run)] != [a.shape for a in expected]
    gan = _gan(run, seed=7)
    checkpoints.load_checkpoint(gan)
    for variable, value in zip(checkpoints._state_variables(gan), expected):
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)


def test_a_checkpoint_variable_without_a_match_is_named(three_steps, tmp_path):
    run = _copy(three_steps, tmp_path)

    def rename_the_output_layer(arrays, meta):
        last = max(i for i, path in enumerate(meta["paths"])
                   if re.fullmatch(r"generator_stack/dense(_\d+)?/kernel", path))
        meta["paths"][last] = "generator_stack/renamed/kernel"

    _rewrite_meta(run, rename_the_output_layer)
    with pytest.raises(UserError, match=r"it has no variable generator_stack/dense_\d+/kernel"):
        checkpoints.load_checkpoint(_gan(run))


def test_an_old_checkpoint_without_flags_or_paths_still_resumes_with_a_note(
        three_steps, tmp_path, capsys):
    run = _copy(three_steps, tmp_path)

    def as_written_before(arrays, meta):
        del meta["config"], meta["paths"]

    _rewrite_meta(run, as_written_before)
    _train(_gan(run), 4, resume=True)
    assert "does not record its run's flags" in capsys.readouterr().err
    assert checkpoint_step(run) == 4


# ---------------------------------------------------------------------------
# 15, 16. What the terminal (or a log file) shows
# ---------------------------------------------------------------------------

def test_progress_in_a_log_file_is_plain_lines_and_counts_only_this_runs_steps(monkeypatch):
    clock = iter([100.0, 100.9, 101.8])
    monkeypatch.setattr(training.time, "perf_counter", lambda: next(clock))
    log = io.StringIO()  # not a terminal
    progress = training.Progress(total=100, every=0.0, stream=log)
    progress.update(51, {"d_loss": 0.5})  # the first step after resuming from step 50
    progress.update(60, {"d_loss": 0.7})
    progress.update(70, {"d_loss": 0.9}, final=True)
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and log.getvalue().endswith("\n")
    assert not re.search(r"[\x1b\r\b]", log.getvalue())
    assert lines[1] == " 60/100 - 100 ms/step - 0:00:04 left - d_loss 0.7000"
    assert lines[2].startswith(" 70/100 - 95 ms/step")  # 1.8 s for the 19 steps after step 51


def test_a_run_logged_to_a_file_says_where_its_outputs_go_then_prints_plain_lines(
        three_steps, tmp_path, capsys):
    run = _copy(three_steps, tmp_path)
    _train(_gan(run), 2, quiet=False, overwrite=True)  # pytest's stdout is not a terminal
    lines = capsys.readouterr().out.splitlines()
    outputs = next(i for i, line in enumerate(lines) if line.startswith("Outputs go to"))
    progress = [i for i, line in enumerate(lines) if re.match(r"\d/2 - ", line)]
    assert str(run) in lines[outputs]
    assert progress and outputs < progress[0]
    assert not re.search(r"[\x1b\r\b]", "\n".join(lines))
    assert checkpoint_step(run) == 2


# ---------------------------------------------------------------------------
# 17, 19. The loop's loose ends: time_xla, XLA that cannot compile, strategies
# ---------------------------------------------------------------------------

@only_on_tensorflow("the XLA choice")
def test_time_xla_restores_the_variables_even_when_a_step_fails(tmp_path, monkeypatch):
    gan = _gan(tmp_path)
    before = [v.numpy().copy() for v in checkpoints._state_variables(gan)]
    calls = []

    def fail_after_the_first_step(logs):  # which has changed the variables
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setattr(tensorflow_backend, "_to_floats", fail_after_the_first_step)
    with pytest.raises(RuntimeError, match="boom"):
        tensorflow_backend.time_xla(gan, batch_size=8)
    assert calls == [1]
    for variable, value in zip(checkpoints._state_variables(gan), before):
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)


@only_on_tensorflow("the XLA choice")
def test_the_xla_choice_is_timed_once_per_machine_and_model_then_remembered(tmp_path,
                                                                          monkeypatch, capsys):
    monkeypatch.setenv("KERAS_GAN_ZOO_CACHE", str(tmp_path / "cache"))
    timed = []

    def time_both_ways(gan, batch_size):  # as time_xla answers, without its seconds
        timed.append(batch_size)
        return {True: (0.030, None), False: (0.020, None)}

    monkeypatch.setattr(tensorflow_backend, "time_xla", time_both_ways)
    first = _gan(tmp_path / "a")
    training.compiled_step(first, batch_size=8, steps=10_000, verbose=True)
    assert timed == [8] and first.jit_compile is False
    assert "30 ms/step with XLA, 20 ms without" in capsys.readouterr().out
    saved = json.loads((tmp_path / "cache" / "xla_choices.json").read_text())
    key, = saved
    assert json.loads(key)["model"].endswith("TinyGAN") and json.loads(key)["batch"][0][0] == 8
    second = _gan(tmp_path / "b")  # the next run of the same model and batch: no timing
    training.compiled_step(second, batch_size=8, steps=10_000, verbose=True)
    assert timed == [8] and second.jit_compile is False
    out = capsys.readouterr().out
    assert "without XLA (remembered from" in out and "xla_choices.json" in out
    other = _gan(tmp_path / "c")  # another batch size is timed anew
    training.compiled_step(other, batch_size=16, steps=10_000, verbose=False)
    assert timed == [8, 16]


class _NotForXLA(keras.layers.Layer):
    """A layer XLA cannot compile: it calls back into Python."""

    def call(self, x):
        import tensorflow as tf
        zeros = tf.numpy_function(lambda a: np.zeros_like(a), [x], tf.float32)
        return x + tf.ensure_shape(tf.stop_gradient(zeros), x.shape)


class _GANWithPythonLayer(TinyGAN):
    def build_discriminator(self):
        img = keras.Input(shape=self.img_shape)
        x = _NotForXLA()(keras.layers.Flatten()(img))
        return keras.Model(img, keras.layers.Dense(1, activation="sigmoid")(x),
                           name="discriminator")


@only_on_tensorflow("the XLA choice")
def test_a_step_xla_cannot_compile_trains_without_xla(tmp_path, capsys):
    gan = _gan(tmp_path, cls=_GANWithPythonLayer)
    assert tensorflow_backend.use_xla(gan)  # no convolutions: XLA would be the choice on a CPU
    before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    _train(gan, 2, jit_compile=None)
    assert gan.jit_compile is False
    assert "training without XLA" in capsys.readouterr().err
    assert checkpoint_step(tmp_path) == 2
    assert any(not np.array_equal(b, w.numpy())
               for b, w in zip(before, gan.discriminator.trainable_weights))


@only_on_tensorflow("the XLA choice")
def test_under_a_strategy_the_step_is_not_wrapped_in_xla_unless_asked(tmp_path, monkeypatch):
    import tensorflow as tf
    from common.backends import tensorflow_distribute as distribute
    gan = _gan(tmp_path)
    monkeypatch.setattr(distribute, "model_strategy", lambda gan: "a strategy")
    monkeypatch.setattr(distribute, "distributed_step", lambda gan, strategy, jit: ("step", jit))
    monkeypatch.setattr(tf.config, "list_logical_devices",
                        lambda kind=None: ["GPU:0"] if kind == "GPU" else [])
    assert training.compiled_step(gan) == ("step", False)
    run_state(gan).compiled_step = None
    assert training.compiled_step(gan, jit_compile=True) == ("step", True)


# ---------------------------------------------------------------------------
# 18. Image loaders: a bad file counted once, read once; pools shut down
# ---------------------------------------------------------------------------

def test_a_bad_image_is_counted_once_read_once_and_the_pool_shuts_down(tmp_path, monkeypatch):
    import imageio.v3 as iio
    for i in range(2):
        iio.imwrite(tmp_path / f"good{i}.png", np.full((8, 8, 3), 100 * i, np.uint8))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    folder = data.ImageFolder(str(tmp_path), img_size=8, verbose=False)
    reads, real_read = [], data._read_image
    monkeypatch.setattr(data, "_read_image", lambda path, *a: reads.append(path) or
                        real_read(path, *a))
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert folder.sample(rng, 16).shape == (16, 8, 8, 3)
    assert folder.skipped == 1
    assert str(tmp_path / "bad.png") not in reads  # known bad since the first check
    pool = folder._pool
    folder.close()
    assert folder._pool is None and pool._shutdown
    assert folder.sample(rng, 2).shape == (2, 8, 8, 3)  # a new pool when used again
    folder.close()


def test_the_photo_loader_counts_a_bad_photo_once_and_shuts_its_pool_down(tmp_path):
    import imageio.v3 as iio
    from common.photos import HighResPhotos
    good = tmp_path / "good.png"
    iio.imwrite(good, np.full((32, 32, 3), 90, np.uint8))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    photos = HighResPhotos([str(good), str(tmp_path / "bad.png")], [], hr_size=16)
    rng = np.random.default_rng(0)
    for _ in range(10):
        hr, lr = photos.sample(rng, 8)
        assert hr.shape == (8, 16, 16, 3) and lr.shape == (8, 4, 4, 3)
    assert photos.skipped == 1
    pool = photos._pool
    photos.close()
    assert photos._pool is None and pool._shutdown


# ---------------------------------------------------------------------------
# 20. An installed zoo writes runs under the working directory
# ---------------------------------------------------------------------------

def test_a_model_installed_in_site_packages_writes_under_the_working_directory(
        tmp_path, monkeypatch, capsys):
    package = tmp_path / "venv" / "lib" / "site-packages" / "mygan"
    package.mkdir(parents=True)
    (package / "model.py").write_text("class MyGAN:\n    pass\n")
    spec = importlib.util.spec_from_file_location("mygan_model", package / "model.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "mygan_model", module)
    spec.loader.exec_module(module)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert training.default_out_dir(module.MyGAN()) == str(work / "mygan")
    assert f"outputs go to {work / 'mygan'}" in capsys.readouterr().err
    assert training.default_out_dir(GAN.__new__(GAN)) == os.path.dirname(
        os.path.abspath(importlib.util.find_spec("gan.gan").origin))
