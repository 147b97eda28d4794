"""Translating your own images with a saved image-to-image generator:
`python -m common.generate G.keras --input IMG_OR_DIR [--fit resize|tile]`
(common/translate.py), which pix2pix's --translate also uses."""
import os

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from conftest import call_main
from common import translate
from common.generate import main as generate_main

SIZE = 16


def save_model(path, channels_in=3, channels_out=3, op="identity", size=SIZE):
    """A stand-in generator (SIZE x SIZE in, the same size out): the identity,
    the negative (which shows where each tile lands), or grey to colour."""
    image = keras.Input((size, size, channels_in))
    if op == "identity":
        out = layers.Identity()(image)
    elif op == "negative":
        out = layers.Rescaling(-1.0)(image)
    else:  # grey to colour: the grey value in red and green, its negative in blue
        colour = layers.Conv2D(channels_out, 1)
        out = colour(image)
        colour.set_weights([np.array([1.0, 1.0, -1.0]).reshape(1, 1, 1, 3), np.zeros(3)])
    keras.Model(image, out).save(path)
    return str(path)


def photo(seed, shape):
    """A photo-like image: smooth, so that resizing keeps it."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize(shape[::-1], Image.BICUBIC))


def read(path):
    return np.asarray(Image.open(path)).astype(int)


def test_tiles_put_every_pixel_back_where_it_came_from(tmp_path):
    generator = keras.models.load_model(save_model(tmp_path / "neg.keras", op="negative"))
    rng = np.random.default_rng(0)
    for shape in [(50, 37), (16, 16), (7, 11), (1, 40)]:  # larger, exact, smaller, one row
        pixels = rng.integers(0, 256, shape + (3,)).astype(np.uint8)
        out = translate.translate_image(generator, pixels, fit="tile")
        assert out.shape == pixels.shape
        # Noise has no smoothness to hide a misplaced tile behind: only the
        # right pixel in the right place gives 255 - x.
        assert np.abs(out.astype(int) - (255 - pixels.astype(int))).max() <= 1


def test_resize_keeps_the_image_size_and_its_content(tmp_path):
    generator = keras.models.load_model(save_model(tmp_path / "id.keras"))
    pixels = photo(1, (48, 72))
    out = translate.translate_image(generator, pixels, fit="resize")
    assert out.shape == (48, 72, 3)
    assert np.abs(out.astype(float) - pixels).mean() < 6
    tiled = translate.translate_image(generator, pixels, fit="tile")
    assert np.abs(tiled.astype(int) - pixels).max() <= 1  # tiles: the full resolution kept


def test_a_folder_is_translated_once_into_its_own_layout(tmp_path, capsys):
    path = save_model(tmp_path / "g_AB.keras", op="negative")
    mine = tmp_path / "mine"
    os.makedirs(mine / "sub")
    Image.fromarray(photo(2, (20, 30))).save(mine / "a.png")
    Image.fromarray(photo(3, (20, 30))).save(mine / "a.jpg", quality=95)
    Image.fromarray(photo(4, (33, 17)).mean(-1).astype(np.uint8)).save(mine / "sub" / "b.png")
    (mine / "broken.png").write_bytes(b"not an image")
    result = call_main(generate_main, path, "--input", mine, "--fit", "tile", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Skipping" in result.stderr and "broken.png" in result.stderr
    written = sorted(os.path.relpath(os.path.join(root, name), mine)
                     for root, _, names in os.walk(mine) for name in names if "g_AB" in name)
    # a.jpg and a.png (sorted in that order) would both be a_g_AB.png: the second keeps its type.
    assert written == ["a_g_AB.png", "a_png_g_AB.png", os.path.join("sub", "b_g_AB.png")]
    assert read(mine / "sub" / "b_g_AB.png").shape == (33, 17, 3)  # grey read as colour for G
    np.testing.assert_allclose(read(mine / "a_png_g_AB.png"), 255 - photo(2, (20, 30)), atol=1)
    # A second run translates the same three images, not the translations.
    again = call_main(generate_main, path, "--input", mine, cwd=tmp_path)
    assert again.returncode == 0 and "Translated 3 image(s)" in again.stdout, again.stdout
    out = call_main(generate_main, path, "--input", mine, "--out", tmp_path / "out", cwd=tmp_path)
    assert out.returncode == 0
    assert os.path.exists(tmp_path / "out" / "sub" / "b_g_AB.png")
    one = call_main(generate_main, path, "--input", mine / "a.png", "--out", tmp_path / "x.png",
                    cwd=tmp_path)
    assert one.returncode == 0 and read(tmp_path / "x.png").shape == (20, 30, 3)


def test_the_generators_channels_are_met(tmp_path):
    path = save_model(tmp_path / "grey_to_colour.keras", channels_in=1, channels_out=3,
                      op="colour")
    Image.fromarray(photo(5, (24, 24))).save(tmp_path / "colour.png")
    result = call_main(generate_main, path, "--input", tmp_path / "colour.png", "--fit", "tile",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = read(tmp_path / "colour_grey_to_colour.png")
    assert out.shape == (24, 24, 3)
    grey = np.asarray(Image.fromarray(photo(5, (24, 24))).convert("L")).astype(int)
    # G saw the photo in grey (its luminance) and painted it red + green, blue inverted.
    assert np.abs(out[..., 0] - grey).max() <= 1 and np.abs(out[..., 1] - grey).max() <= 1
    assert np.abs(out[..., 2] - (255 - grey)).max() <= 1
    grey_out = save_model(tmp_path / "grey.keras", channels_in=1, channels_out=1)
    result = call_main(generate_main, grey_out, "--input", tmp_path / "colour.png", cwd=tmp_path)
    assert result.returncode == 0 and Image.open(tmp_path / "colour_grey.png").mode == "L"


@pytest.mark.parametrize("case", ["discriminator", "noise", "no_input", "fit_alone", "class",
                                  "missing", "unreadable", "out_file", "empty"])
def test_wrong_requests_are_one_sentence(tmp_path, case):
    translator = save_model(tmp_path / "g.keras")
    Image.fromarray(photo(6, (16, 16))).save(tmp_path / "a.png")
    image = keras.Input((SIZE, SIZE, 3))
    patch = layers.Conv2D(1, 4, strides=4)(image)
    keras.Model(image, patch).save(tmp_path / "d.keras")
    noise = keras.Input((8,))
    keras.Model(noise, layers.Reshape((4, 4, 1))(layers.Dense(16)(noise))).save(tmp_path / "n.keras")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "file.txt").write_text("x")
    os.makedirs(tmp_path / "empty")
    args, message = {
        "discriminator": ([tmp_path / "d.keras", "--input", tmp_path / "a.png"],
                          "not an image-to-image generator but a discriminator"),
        "noise": ([tmp_path / "n.keras", "--input", tmp_path / "a.png"],
                  "not an image-to-image generator but a generator (noise in"),
        "no_input": ([translator], "to translate images with it, add --input"),
        "fit_alone": ([tmp_path / "n.keras", "--fit", "tile"], "add --input"),
        "class": ([translator, "--input", tmp_path / "a.png", "--class", "3"],
                  "leave out --class"),
        "missing": ([translator, "--input", tmp_path / "none.png"], "does not exist"),
        "unreadable": ([translator, "--input", tmp_path / "bad.png"], "cannot be read"),
        "out_file": ([translator, "--input", tmp_path, "--out", tmp_path / "file.txt"],
                     "is a file"),
        "empty": ([translator, "--input", tmp_path / "empty"], "holds no .jpg or .png"),
    }[case]
    result = call_main(generate_main, *args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0  # one line
