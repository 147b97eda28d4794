"""The image-folder loader at accelerator speed (issue 29): the next batch is
drawn while a step runs and is the batch a run without that draws; images
are decoded once, at the training size, as uint8, JPEGs at reduced scale;
losses stay on the device until they are printed or written; and a tiny
DCGAN on a folder of photo crops runs nearly as fast as on the same images
in memory (benchmarks/loader_speed.py)."""
import os
import sys

import numpy as np
import pytest
from PIL import Image

from common import checkpoints, data, history, prefetch
from common.errors import UserError
from conftest import REPO
from tiny import TinyDCGAN

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import loader_speed  # noqa: E402


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    """120 JPEG crops of real photos, CelebA's size (178x218)."""
    folder = tmp_path_factory.mktemp("crops")
    loader_speed.write_photo_crops(str(folder), 120)
    return folder


class Drawer:
    """What `Prefetcher` needs of a model: `rng`, `draw_batch` and `draw_ahead`."""
    draw_ahead = True

    def __init__(self, dataset, seed=0):
        self.dataset, self.rng = dataset, np.random.default_rng(seed)

    def draw_batch(self, rng, batch_size):
        return self.dataset.sample(rng, batch_size), rng.normal(size=(batch_size, 3))


# ---------------------------------------------------------------------------
# Overlap
# ---------------------------------------------------------------------------

def test_prefetched_batches_and_rng_states_are_those_of_a_run_without_prefetching(crops):
    plain, ahead = Drawer(data.ImageFolder(str(crops), 32, verbose=False)), \
        Drawer(data.ImageFolder(str(crops), 32, verbose=False))
    batches = prefetch.Prefetcher(ahead, 8, steps=6)
    for _ in range(6):
        expected = plain.draw_batch(plain.rng, 8)
        got = batches.next()
        for a, b in zip(expected, got):
            np.testing.assert_array_equal(a, b)
        # what a checkpoint saves: the state after the batches used, not those drawn ahead
        assert ahead.rng.bit_generator.state == plain.rng.bit_generator.state
    batches.close()
    assert batches.redrawn == 0


def test_a_draw_from_the_models_rng_between_steps_is_followed_as_without_prefetching(crops):
    plain, ahead = Drawer(data.ImageFolder(str(crops), 16, verbose=False)), \
        Drawer(data.ImageFolder(str(crops), 16, verbose=False))
    batches = prefetch.Prefetcher(ahead, 4, steps=3)
    for drawer in (plain, ahead):
        drawer.first = drawer.draw_batch(drawer.rng, 4) if drawer is plain else batches.next()
        drawer.rng.integers(0, 10)  # something else draws between two steps
    np.testing.assert_array_equal(batches.next()[0], plain.draw_batch(plain.rng, 4)[0])
    assert batches.redrawn == 1
    batches.close()


def test_an_error_while_drawing_ahead_is_raised_where_the_batch_is_taken():
    class Failing:
        rng, draw_ahead = np.random.default_rng(0), True

        def draw_batch(self, rng, batch_size):
            raise UserError("no images")

    batches = prefetch.Prefetcher(Failing(), 4, steps=2)
    with pytest.raises(UserError, match="no images"):
        batches.next()
    batches.close()


def test_training_on_a_folder_with_and_without_drawing_ahead_ends_the_same(crops, tmp_path,
                                                                           monkeypatch):
    runs = {}
    for ahead in (0, 1):
        monkeypatch.setattr(prefetch, "BATCHES_AHEAD", ahead)
        gan = TinyDCGAN(img_shape=(16, 16, 3), dataset=data.ImageFolder(str(crops), 16,
                                                                         verbose=False),
                        out_dir=str(tmp_path / str(ahead)), seed=3)
        logs = gan.train(epochs=5, batch_size=8, sample_interval=2, quiet=True)
        assert all(type(value) is float for value in logs.values())  # read back at the end
        runs[ahead] = gan
    for a, b in zip(runs[0].generator.weights, runs[1].generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert runs[0].rng.bit_generator.state == runs[1].rng.bit_generator.state
    saved = [checkpoints.read_meta(str(tmp_path / str(ahead)))["rng"] for ahead in (0, 1)]
    assert saved[0] == saved[1] == runs[1].rng.bit_generator.state


def test_resume_on_a_folder_continues_exactly_with_batches_drawn_ahead(crops, tmp_path):
    def make(out, seed):
        return TinyDCGAN(img_shape=(16, 16, 3), dataset=data.ImageFolder(str(crops), 16,
                                                                         verbose=False),
                         out_dir=str(out), seed=seed)
    straight = make(tmp_path / "straight", 5)
    straight.train(epochs=6, batch_size=8, sample_interval=3, quiet=True)
    make(tmp_path / "resumed", 5).train(epochs=3, batch_size=8, sample_interval=3, quiet=True)
    second = make(tmp_path / "resumed", 99)
    second.train(epochs=6, batch_size=8, sample_interval=3, quiet=True, resume=True)
    for a, b in zip(checkpoints._state_variables(straight), checkpoints._state_variables(second)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=a.path)


# ---------------------------------------------------------------------------
# Decode once, at the training size, as uint8; JPEGs at reduced scale
# ---------------------------------------------------------------------------

def test_the_cache_keeps_uint8_images_at_the_training_size(crops):
    folder = data.ImageFolder(str(crops), 64, verbose=False)
    batch = folder.sample(np.random.default_rng(0), 32)
    assert batch.dtype == np.float32 and batch.min() >= -1 and batch.max() <= 1
    cached = list(folder._cache.values())
    assert cached and all(p.dtype == np.uint8 and p.shape == (64, 64, 3) for p in cached)
    # 256 MB of uint8 hold four times the images 256 MB of float32 held
    assert data.IMAGE_CACHE_MB * 2**20 // cached[0].nbytes == 21845
    folder.close()


def test_a_folder_that_fits_the_cache_is_decoded_once_per_run(crops, monkeypatch):
    folder = data.ImageFolder(str(crops), 32, verbose=False)
    reads, real_read = [], data._read_image
    monkeypatch.setattr(data, "_read_image", lambda path, *a: reads.append(path) or
                        real_read(path, *a))
    rng = np.random.default_rng(0)
    for _ in range(20):
        folder.sample(rng, 32)
    assert len(reads) == len(set(reads)) <= len(folder)
    folder.close()


def test_jpegs_are_decoded_at_reduced_scale_when_shrunk_and_look_the_same(crops):
    path = data.list_images(str(crops))[0]
    assert data.open_image(path).size == (178, 218)
    assert data.open_image(path, shrink_side=64).size == (89, 109)  # libjpeg's 1/2 scale
    assert data.open_image(path, shrink_side=100).size == (178, 218)  # 1/2 would be too small
    whole = data._read_image(path, 64, 3, 1.0, draft=False).astype(int)
    scaled = data._read_image(path, 64, 3, 1.0, draft=True).astype(int)
    assert np.abs(whole - scaled).mean() < 3  # of 255: the same picture
    # the faces' crop (108 of 178 pixels) to 64 needs the whole scale: nothing reduced
    np.testing.assert_array_equal(data._read_image(path, 64, 3, data.FACE_CROP_FRACTION, True),
                                  data._read_image(path, 64, 3, data.FACE_CROP_FRACTION, False))


def test_16_bit_palette_and_cmyk_files_among_photo_crops_still_load_right(crops, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in sorted(os.listdir(crops))[:10]:
        (folder / name).write_bytes((crops / name).read_bytes())
    width, height = loader_speed.CROP_SIZE
    Image.fromarray(np.full((height, width), 32768, np.uint16)).save(folder / "grey16.png")
    palette = Image.new("P", (width, height), 1)
    palette.putpalette([0, 0, 0, 200, 30, 60] + [0] * (256 * 3 - 6))
    palette.save(folder / "palette.png")
    Image.new("CMYK", (width, height), (255, 0, 0, 0)).save(folder / "cmyk.jpg", quality=95)
    images = data.ImageFolder(str(folder), 64, verbose=False)
    assert images.channels == 3
    expected = {"grey16.png": (128, 128, 128), "palette.png": (200, 30, 60),
                "cmyk.jpg": (0, 255, 255)}
    for name, colour in expected.items():
        pixels = images._load_pixels([os.path.basename(p) for p in images.paths].index(name))
        assert pixels.dtype == np.uint8 and pixels.shape == (64, 64, 3)
        np.testing.assert_allclose(pixels.reshape(-1, 3).mean(axis=0), colour, atol=3,
                                   err_msg=name)
    assert images.skipped == 0
    images.close()


# ---------------------------------------------------------------------------
# Losses read back when printed or written
# ---------------------------------------------------------------------------

class DeviceScalar:
    """A loss as the compiled step returns it: reading it is a wait for the device."""
    reads = 0

    def __init__(self, value):
        self.value = value

    def __float__(self):
        DeviceScalar.reads += 1
        return float(self.value)


def test_logs_are_read_back_only_when_written_or_at_the_read_back_interval(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr(history, "READ_BACK_SECONDS", 3600.0)
    DeviceScalar.reads = 0
    record = history.History(str(tmp_path))
    for step in range(50):
        record.record(step, {"d_loss": DeviceScalar(0.5), "g_loss": DeviceScalar(1.0)})
    assert DeviceScalar.reads == 0  # fifty steps, no wait for the device
    record.flush()
    assert DeviceScalar.reads == 100
    assert (tmp_path / "history.csv").read_text().splitlines()[1] == "0,0.5,1"


def test_a_non_finite_loss_stops_at_the_read_back_and_names_its_step(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "READ_BACK_SECONDS", 3600.0)
    record = history.History(str(tmp_path))
    for step in range(10):
        record.record(step, {"d_loss": DeviceScalar(np.nan if step >= 7 else 0.5)})
    with pytest.raises(UserError, match="diverged at step 7: a loss is not finite"):
        record.read_back()
    record.close()  # the good steps are written
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 1 + 7


def test_an_evaluation_that_is_not_finite_is_recorded_and_does_not_stop_the_run(tmp_path):
    record = history.History(str(tmp_path))
    record.record(0, {"d_loss": DeviceScalar(0.5)}, read_back=True)
    record.record(0, {"fid": float("nan")})  # a score, not a loss
    record.record(1, {"d_loss": DeviceScalar(0.25)})
    record.close()
    assert (tmp_path / "history.csv").read_text().splitlines() == [
        "step,d_loss,fid", "0,0.5,nan", "1,0.25,"]


def test_a_diverged_run_stops_within_the_read_back_interval(tmp_path, mnist):
    class Exploding(TinyDCGAN):
        def draw_batch(self, rng, batch_size):
            # the loop's draws (not those that time the compiled step) start where gan.rng is
            self.calls += rng.bit_generator.state == self.rng.bit_generator.state
            imgs, noise = super().draw_batch(rng, batch_size)
            return (imgs * np.nan if self.calls > 4 else imgs), noise

    gan = Exploding(dataset=data.ArrayImages(mnist[0][:64]), out_dir=str(tmp_path), seed=0)
    gan.calls = -10**9
    gan.train(epochs=1, batch_size=8, quiet=True)  # step 0, and the step compiled
    gan.calls = 0  # steps 1 to 4 are fine, step 5's batch is not
    with pytest.raises(UserError, match=r"diverged at step 5: .*kept in .*checkpoints"):
        gan.train(epochs=100_000, batch_size=8, sample_interval=100_000, quiet=True)
    # read back every READ_BACK_SECONDS: stopped long before the 100,000 steps
    assert gan.calls < 100_000


def test_the_progress_line_reads_logs_back_only_when_it_prints():
    import io
    from common.progress import Progress
    DeviceScalar.reads = 0
    progress = Progress(100, every=3600, stream=io.StringIO())
    for step in range(1, 10):
        progress.update(step, {"d_loss": DeviceScalar(0.25)})
    assert DeviceScalar.reads == 1  # the first update prints
    progress.update(10, {"d_loss": DeviceScalar(0.75)}, final=True)
    assert DeviceScalar.reads == 10
    assert progress.stream.getvalue().splitlines()[-1].endswith("d_loss 0.3056")


# ---------------------------------------------------------------------------
# Measured: the benchmark runs, and a folder trains nearly as fast as memory
# ---------------------------------------------------------------------------

def test_the_loader_benchmark_measures_both_loaders(crops):
    rates = loader_speed.decode_rates(data.list_images(str(crops)), limit=20)
    assert rates["today_per_core"] > 0 and rates["new_per_core"] > 0
    assert rates["mean_abs_difference"] < 3
    today = loader_speed.loader_rates(loader_speed.todays_loader(str(crops), 32), passes=2,
                                      batch=16)
    new = loader_speed.loader_rates(loader_speed.new_loader(str(crops), 32), passes=2, batch=16)
    assert len(today) == len(new) == 3 and min(today + new) > 0  # two passes, settled


def test_a_tiny_dcgan_on_a_folder_of_photo_crops_runs_at_least_0_7x_the_in_memory_speed(
        crops, tmp_path):
    race = loader_speed.training_race(str(crops), str(tmp_path), steps=150, rounds=3,
                                      verbose=False)
    assert race["folder"]["vs_memory"] >= 0.7, race


def test_a_model_whose_draw_reads_the_step_count_draws_between_steps(tmp_path):
    """SRGAN's draw_batch reads the optimizer's step count (pre-training or
    not): drawn while a step runs it would see the count before that step,
    one pre-training step too many. It declares draw_ahead = False."""
    from common.photos import HighResPhotos
    from tiny import TinySRGAN
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, (48, 48, 3)).astype("uint8") for _ in range(4)]
    gan = TinySRGAN(hr_shape=(32, 32, 3), dataset=HighResPhotos(photos[:3], photos[3:], hr_size=32),
                    out_dir=str(tmp_path), content_loss="mse", pretrain_steps=3, seed=0)
    assert prefetch.Prefetcher(gan, 4, steps=1).ahead == 0
    gan.train(epochs=6, batch_size=4, sample_interval=10, quiet=True)
    rows = (tmp_path / "history.csv").read_text().splitlines()[1:]
    d_losses = [float(row.split(",")[1]) for row in rows]
    assert d_losses[:3] == [0.0, 0.0, 0.0] and all(d > 0 for d in d_losses[3:]), d_losses
