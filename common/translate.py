"""Translate your own images with a saved image-to-image generator: pix2pix's
`generator.keras`, CycleGAN's `g_AB.keras` / `g_BA.keras`.

    python -m common.generate pix2pix/saved_model/generator.keras --input photo.jpg
    python -m common.generate cyclegan/saved_model/g_AB.keras --input my_digits/ --out translated/
    python -m common.generate pix2pix/saved_model/generator.keras --input big.jpg --fit tile

A generator has a fixed square input (the `--img-size` it trained at), while
your images have any size. Two ways to fit them (`--fit`):

- `resize` (the default): the image is resized to G's input (bicubic),
  translated, and G's output resized back to the image's own size. Right for
  images of about G's size, or when G learned whole scenes (facades, digits).
- `tile`: the image is cut into overlapping tiles of G's size at its own
  resolution (half a tile apart; an image smaller than a tile is padded by
  reflection), each tile translated, and the tiles blended back with weights
  that fall to the tile's edges, so no seams show. Right when G learned a
  local operation on crops (the offline pix2pix task restores photo crops)
  and the image is larger: resizing would throw its detail away.

Each image is read as a viewer shows it (`common.data.open_image`), turned to
G's channels (grey to colour by repetition, colour to grey by luminance), and
written as PNG: beside the image as NAME_SUFFIX.png, or into `--out` (a
folder; for one image, a .png path also works). Images this command wrote
before (NAME_SUFFIX.png) are never translated again when a folder is run a
second time.
"""
import os
import sys

import numpy as np

from common import data
from common.photos import _resize, _to_unit
from common.errors import UserError
from common.files import replaced_atomically

FITS = ("resize", "tile")
TILES_PER_CALL = 16


def _to_uint8(images):
    return np.clip(np.round((np.asarray(images, "float32") + 1.0) * 127.5), 0, 255) \
        .astype(np.uint8)


def _run(generator, batch):
    """G on a float batch in [-1, 1], a few tiles per call (memory stays small)."""
    from keras import ops
    return np.concatenate([ops.convert_to_numpy(generator(batch[i:i + TILES_PER_CALL],
                                                          training=False))
                           for i in range(0, len(batch), TILES_PER_CALL)])


def _tile_starts(length, tile):
    """Offsets of tiles of `tile` pixels covering `length`, half a tile apart,
    the last one flush with the end."""
    if length <= tile:
        return [0]
    step = max(1, tile // 2)
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _blend_weights(rows, cols):
    """(rows, cols, 1) weights that are largest at a tile's centre and small at
    its edges: overlapping tiles cross-fade instead of meeting at a seam."""
    def ramp(n):
        return np.minimum(np.arange(n) + 1, n - np.arange(n)).astype("float64")
    return np.outer(ramp(rows), ramp(cols))[..., None]


def translate_image(generator, pixels, fit="resize"):
    """uint8 (H, W, C) with C G's input channels -> uint8 (H, W, C_out), G's
    output at the image's own size, fitted as `fit` says (module docstring)."""
    rows, cols = (int(n) for n in generator.inputs[0].shape[1:3])
    height, width = pixels.shape[:2]
    if fit == "resize":
        small = _to_unit(_resize(pixels, rows, cols))[None]
        return _resize(_to_uint8(_run(generator, small))[0], height, width)
    pad_h, pad_w = max(0, rows - height), max(0, cols - width)
    padded = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
    big_h, big_w = padded.shape[:2]
    boxes = [(y, x) for y in _tile_starts(big_h, rows) for x in _tile_starts(big_w, cols)]
    tiles = np.stack([_to_unit(padded[y:y + rows, x:x + cols]) for y, x in boxes])
    translated = _run(generator, tiles)
    weights = _blend_weights(rows, cols)
    total = np.zeros((big_h, big_w, translated.shape[-1]), "float64")
    weight = np.zeros((big_h, big_w, 1), "float64")
    for (y, x), tile in zip(boxes, translated):
        total[y:y + rows, x:x + cols] += tile * weights
        weight[y:y + rows, x:x + cols] += weights
    return _to_uint8(total / weight)[:height, :width]


def _destination(path, source, out, suffix, used):
    """Where the translation of `path` goes; `used` keeps two inputs (a.jpg,
    a.png) from writing one file."""
    if out and os.path.isfile(source) and out.lower().endswith(".png"):
        return out
    stem = os.path.splitext(os.path.basename(path))[0]
    if out and os.path.isdir(source):  # keep the input's subfolders apart in --out
        relative = os.path.dirname(os.path.relpath(path, source))
        folder = os.path.join(out, relative)
    else:
        folder = out or os.path.dirname(os.path.abspath(path))
    name = os.path.join(folder, f"{stem}_{suffix}.png")
    if name in used:
        ext = os.path.splitext(path)[1].lstrip(".").lower()
        name = os.path.join(folder, f"{stem}_{ext}_{suffix}.png")
    used.add(name)
    return name


def _inputs(source, suffix):
    """The image files to translate: `source` itself, or those under the folder
    `source` except the ones an earlier run of this command wrote."""
    if not os.path.exists(source):
        raise UserError(f"{source} does not exist: pass an image (.jpg/.png) or a folder of "
                        "them to --input.")
    if not os.path.isdir(source):
        return [source]
    paths = [p for p in data._image_files(source)
             if not os.path.splitext(p)[0].endswith(f"_{suffix}")]
    if not paths:
        raise UserError(f"Folder {source} holds no .jpg or .png images to translate "
                        f"(images named *_{suffix}.png are this command's own output).")
    return paths


def translate_files(generator, source, generator_path, out=None, suffix=None, fit="resize"):
    """Translate the image `source`, or every image under the folder `source`,
    with `generator`; write each as PNG (module docstring) and return the
    paths written. An unreadable image is a UserError when it is the one
    given, and named and skipped in a folder."""
    if fit not in FITS:
        raise UserError(f"--fit must be one of {', '.join(FITS)}, not {fit!r}.")
    suffix = suffix or os.path.splitext(os.path.basename(generator_path))[0]
    paths = _inputs(source, suffix)
    if out and os.path.isfile(out) and not (os.path.isfile(source)
                                            and out.lower().endswith(".png")):
        raise UserError(f"--out {out} is a file: pass a folder to write the translated "
                        "images into.")
    if out and os.path.isfile(source) and not out.lower().endswith(".png") \
            and os.path.splitext(out)[1]:
        raise UserError(f"--out {out} is neither a folder nor a .png file: the translation is "
                        "written as PNG.")
    from PIL import Image
    channels = int(generator.inputs[0].shape[-1])
    skipped = data.SkipReport()
    written, used = [], set()
    for path in paths:
        try:
            pixels = np.asarray(data.open_image(path, channels=channels), dtype=np.uint8)
        except data.UnreadableImage as error:
            if len(paths) == 1:
                raise UserError(f"Image {path} cannot be read ({error}): pass a .jpg or "
                                ".png.") from None
            skipped.add(path, error)
            continue
        pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], channels)
        output = translate_image(generator, pixels, fit)
        destination = _destination(path, source, out, suffix, used)
        os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
        with replaced_atomically(destination) as tmp:
            Image.fromarray(output[..., 0] if output.shape[-1] == 1 else output) \
                .save(tmp, format="PNG")
        written.append(destination)
    skipped.summary()
    if not written:
        raise UserError(f"None of the {len(paths)} image files under {source} could be read: "
                        "pass .jpg or .png images.")
    rows, cols = (int(n) for n in generator.inputs[0].shape[1:3])
    where = written[0] if len(written) == 1 else (out or os.path.dirname(written[0]))
    print(f"Translated {len(written)} image(s) with {generator_path} ({rows}x{cols}, "
          f"--fit {fit}): {where}" + (f"; skipped {skipped.count} unreadable"
                                      if skipped.count else ""), file=sys.stdout)
    return written
