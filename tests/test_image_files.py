"""Every kind of image file a user may have is read as an image viewer shows
it, or named and skipped (common.data.open_image, ImageFolder, SRGAN's photos).

Each file is made here with known pixels; no training, no network."""
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from common import data, photos

SIDE = 16  # the --img-size of these tests: uniform files of this side are not resized


def _png_rgb16(path, pixels):
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow has no 16-bit RGB mode
    to save from; it reads such files to 8 bits per channel)."""
    pixels = np.asarray(pixels, dtype=">u2")
    height, width, _ = pixels.shape

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter 0 on each row
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _half_black_half_white(width=40, height=20):
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, width // 2:] = 255
    return Image.fromarray(pixels)


def _exif_jpeg(path, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    _half_black_half_white().save(path, quality=95, exif=exif.tobytes())


def _make_files(folder):
    """{file name: expected RGB of every pixel (None: checked on its own)}."""
    folder.mkdir()
    expected = {}

    def uniform(mode, value):
        return Image.new(mode, (SIDE, SIDE), value)

    uniform("L", 100).save(folder / "grey8.png")
    expected["grey8.png"] = (100, 100, 100)
    Image.fromarray(np.full((SIDE, SIDE), 32768, np.uint16)).save(folder / "grey16.png")
    expected["grey16.png"] = (128, 128, 128)  # mid grey, not white (32768 / 257)
    uniform("RGB", (10, 120, 250)).save(folder / "rgb8.png")
    expected["rgb8.png"] = (10, 120, 250)
    _png_rgb16(folder / "rgb16.png", np.tile([65535, 32768, 0], (SIDE, SIDE, 1)))
    expected["rgb16.png"] = (255, 128, 0)
    palette = uniform("P", 1)
    palette.putpalette([0, 0, 0, 200, 30, 60] + [0] * (256 * 3 - 6))
    palette.save(folder / "palette.png")
    expected["palette.png"] = (200, 30, 60)
    clear = uniform("P", 0)
    clear.putpalette([0, 0, 0, 200, 30, 60] + [0] * (256 * 3 - 6))
    clear.save(folder / "palette_transparent.png", transparency=0)
    expected["palette_transparent.png"] = (255, 255, 255)  # transparent: white, not black
    uniform("RGBA", (0, 0, 0, 0)).save(folder / "rgba_clear.png")
    expected["rgba_clear.png"] = (255, 255, 255)
    uniform("RGBA", (0, 0, 255, 128)).save(folder / "rgba_half.png")
    expected["rgba_half.png"] = (127, 127, 255)  # half blue on white
    uniform("RGBA", (0, 200, 0, 255)).save(folder / "rgba_opaque.png")
    expected["rgba_opaque.png"] = (0, 200, 0)
    uniform("LA", (50, 0)).save(folder / "la_clear.png")
    expected["la_clear.png"] = (255, 255, 255)
    uniform("LA", (50, 255)).save(folder / "la_opaque.png")
    expected["la_opaque.png"] = (50, 50, 50)
    uniform("1", 1).save(folder / "bilevel.png")
    expected["bilevel.png"] = (255, 255, 255)
    uniform("CMYK", (255, 0, 0, 0)).save(folder / "cmyk.jpg", quality=95)
    expected["cmyk.jpg"] = (0, 255, 255)  # pure cyan
    Image.fromarray(np.full((SIDE, SIDE), 0.5, np.float32)).save(folder / "float.tif")
    expected["float.tif"] = (128, 128, 128)
    Image.fromarray(np.full((SIDE, SIDE), 32768, np.int32)).save(folder / "int32.tif")
    expected["int32.tif"] = (128, 128, 128)
    uniform("RGB", (255, 0, 0)).save(folder / "animated.gif", save_all=True,
                                     append_images=[uniform("RGB", (0, 0, 255))], duration=100)
    expected["animated.gif"] = (255, 0, 0)  # the first frame
    uniform("L", 60).save(folder / "pages.tif", save_all=True,
                          append_images=[uniform("L", 200)])
    expected["pages.tif"] = (60, 60, 60)  # the first page
    Image.new("RGB", (3, 3), (90, 90, 90)).save(folder / "tiny.png")
    expected["tiny.png"] = (90, 90, 90)
    _exif_jpeg(folder / "exif6.jpg", 6)
    _exif_jpeg(folder / "exif8.jpg", 8)
    expected["exif6.jpg"] = expected["exif8.jpg"] = None
    # unreadable: cut short, and text in a .png name
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "whole.png")
    whole = (folder / "whole.png").read_bytes()
    (folder / "whole.png").unlink()
    (folder / "truncated.png").write_bytes(whole[:len(whole) // 2])
    (folder / "notes.png").write_text("these are my notes, not a picture\n")
    return expected


# The mode Pillow opens each made file in: every one the loader must handle.
MODES = {"grey8.png": "L", "grey16.png": "I;16", "rgb8.png": "RGB", "rgb16.png": "RGB",
         "palette.png": "P", "palette_transparent.png": "P", "rgba_clear.png": "RGBA",
         "la_clear.png": "LA", "bilevel.png": "1", "cmyk.jpg": "CMYK", "float.tif": "F",
         "int32.tif": "I", "animated.gif": "P", "pages.tif": "L", "exif6.jpg": "RGB"}


def test_the_files_made_are_of_the_modes_meant(made):
    path, _ = made
    for name, mode in MODES.items():
        with Image.open(path / name) as image:
            assert image.mode == mode, name
            if name in ("animated.gif", "pages.tif"):
                assert image.n_frames == 2
            if name == "palette_transparent.png":
                assert "transparency" in image.info


def _pixels(folder, name):
    """The file `name` as the loader reads it, as 0..255 values."""
    index = [p.rsplit("/", 1)[-1] for p in folder.paths].index(name)
    image = folder._load(index)
    assert image is not None, name
    return image * 127.5 + 127.5


@pytest.fixture
def made(tmp_path):
    return tmp_path / "mine", _make_files(tmp_path / "mine")


def test_every_mode_reads_as_a_viewer_shows_it(made, capsys):
    path, expected = made
    folder = data.ImageFolder(str(path), img_size=SIDE, verbose=False)
    assert folder.shape == (SIDE, SIDE, 3)
    for name, rgb in expected.items():
        if rgb is None:
            continue
        pixels = _pixels(folder, name)
        tolerance = 4 if name.endswith((".jpg", ".gif")) else 1
        assert np.abs(pixels - np.array(rgb)).max() <= tolerance, (name, pixels.mean((0, 1)))
    # EXIF orientation: stored 40x20 with the left half black; 6 turns it a
    # quarter clockwise (black on top), 8 anticlockwise (black at the bottom).
    for name, black_on_top in (("exif6.jpg", True), ("exif8.jpg", False)):
        upright = data.open_image(str(path / name))
        assert upright.size == (20, 40) and upright.mode == "RGB"
        pixels = _pixels(folder, name).mean(-1)  # the centred 20x20 square, resized to 16
        top, bottom = pixels[:6].mean(), pixels[-6:].mean()
        assert (top, bottom) == ((pytest.approx(0, abs=8), pytest.approx(255, abs=8))
                                 if black_on_top else
                                 (pytest.approx(255, abs=8), pytest.approx(0, abs=8))), name
        assert abs(pixels[:, :6].mean() - pixels[:, -6:].mean()) < 8  # not left/right
    folder.close()


def test_unreadable_files_are_named_with_the_reason_and_small_images_warned_once(made,
                                                                                  capsys):
    path, _ = made
    folder = data.ImageFolder(str(path), img_size=SIDE, verbose=False)
    folder.load_all()  # every file read: the two bad ones named once, not again
    folder.load_all()
    folder.close()
    err = capsys.readouterr().err
    assert err.count("Skipping ") == 2
    assert f"Skipping {path / 'truncated.png'}: truncated or damaged" in err
    assert f"Skipping {path / 'notes.png'}: not an image file Pillow can read" in err
    assert "more unreadable" not in err  # only two: all named
    warnings = [line for line in err.splitlines() if "much smaller than" in line]
    assert len(warnings) == 1 and "tiny.png" in warnings[0] and "3x3" in warnings[0]
    assert "1 of the" in warnings[0]
    assert folder.skipped == 2


def test_after_the_first_five_skipped_files_a_count(tmp_path, capsys):
    Image.new("L", (SIDE, SIDE), 7).save(tmp_path / "good.png")
    for k in range(8):
        (tmp_path / f"bad{k}.png").write_bytes(b"junk")
    folder = data.ImageFolder(str(tmp_path), img_size=SIDE, verbose=False)
    assert folder.shape == (SIDE, SIDE, 1)
    assert folder.sample(np.random.default_rng(0), 4).shape == (4, SIDE, SIDE, 1)
    folder.close()
    folder.close()  # counted once
    err = capsys.readouterr().err
    assert err.count("Skipping ") == 5
    assert err.count("... and 3 more unreadable image file(s) skipped (8 in all).") == 1
    assert folder.skipped == 8
    assert "much smaller" not in err


def test_sixteen_bit_grey_folder_is_one_mid_grey_channel(tmp_path):
    Image.fromarray(np.full((SIDE, SIDE), 32768, np.uint16)).save(tmp_path / "a.png")
    Image.fromarray(np.full((SIDE, SIDE), 65535, np.uint16)).save(tmp_path / "b.png")
    folder = data.ImageFolder(str(tmp_path), img_size=SIDE, verbose=False)
    assert folder.shape == (SIDE, SIDE, 1)
    assert np.abs(_pixels(folder, "a.png") - 127.5).max() <= 1
    assert np.abs(_pixels(folder, "b.png") - 255).max() <= 0.5


def test_srgan_photos_read_the_same_way_and_name_skipped_files(made, capsys):
    path, expected = made
    assert tuple(photos.read_photo(str(path / "grey16.png"))[0, 0]) == expected["grey16.png"]
    assert tuple(photos.read_photo(str(path / "rgba_clear.png"))[0, 0]) == (255, 255, 255)
    assert photos.read_photo(str(path / "exif6.jpg")).shape == (40, 20, 3)
    assert photos.read_photo(str(path / "notes.png")) is None
    files = [str(path / name) for name in ("rgb8.png", "cmyk.jpg", "notes.png")]
    loader = photos.HighResPhotos(files, [], hr_size=8, scale=4)
    for _ in range(4):
        hr, _ = loader.sample(np.random.default_rng(0), 8)
        assert hr.shape == (8, 8, 8, 3)
    loader.close()
    err = capsys.readouterr().err
    assert err.count("Skipping ") == 1 and f"{path / 'notes.png'}: not an image" in err
    assert loader.skipped == 1
