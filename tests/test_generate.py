"""The generate command on saved generators: grids, a chosen digit, a latent walk."""
import imageio.v3 as iio
import pytest

from conftest import save_tiny_generators, call_main
from common.generate import main as generate_main


@pytest.fixture(scope="module")
def saved_generators(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generators")
    save_tiny_generators(folder)
    return folder


def test_grid_from_a_plain_generator(saved_generators, tmp_path):
    out = tmp_path / "grid.png"
    result = call_main(generate_main, str(saved_generators / "plain.keras"),
                        "--out", str(out), "--n", "16", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote 16 generated images" in result.stdout
    assert iio.imread(out).shape[:2] == (4 * 29 * 3 + 3, 4 * 29 * 3 + 3)


def test_chosen_digit_and_labelled_grid_from_a_conditional_generator(saved_generators, tmp_path):
    sevens = tmp_path / "sevens.png"
    result = call_main(generate_main, str(saved_generators / "cond.keras"),
                        "--digit", "7", "--n", "10", "--out", str(sevens), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    labelled = tmp_path / "all.png"
    result = call_main(generate_main, str(saved_generators / "cond.keras"),
                        "--out", str(labelled), cwd=tmp_path)
    assert result.returncode == 0 and "Wrote 50 generated images" in result.stdout
    grid_rows = 5 * 29 * 3 + 3  # 5 rows of 28-pixel digits and borders, scaled 3x
    assert iio.imread(sevens).shape[0] == 3 * 29 * 3 + 3  # 10 sevens, 4 a row: 3 rows, no labels
    image = iio.imread(labelled)
    strip = image[:image.shape[0] - grid_rows]
    assert strip.shape[0] > 10 and strip.min() < 100 < strip.max()  # the digits drawn above


def test_latent_walk_gif(saved_generators, tmp_path):
    gif = tmp_path / "walk.gif"
    result = call_main(generate_main, str(saved_generators / "cond.keras"),
                        "--walk", str(gif), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == 60


@pytest.mark.parametrize("args, message", [
    (["missing.keras"], "does not exist"),
    (["plain.keras", "--digit", "3"], "needs a conditional generator"),
])
def test_mistakes_end_in_one_sentence(saved_generators, tmp_path, args, message):
    args = [str(saved_generators / args[0])] + args[1:]
    result = call_main(generate_main, *args, "--out", str(tmp_path / "x.png"),
                        cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
