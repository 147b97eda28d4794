"""Write a folder of images once, at the training size, into one array file.

    python -m common.prepare DIR --img-size 64                # DIR_64.npz beside DIR
    python -m common.prepare DIR --img-size 64 --faces        # CelebA: the faces' square
    python -m common.prepare DIR --img-size 32 --out cats.npz --channels 3
    python dcgan/dcgan.py --data DIR_64.npz --img-size 64     # train on it

A folder of JPEGs is decoded again whenever its images do not fit the
loader's cache (256 MB: 21,000 images of 64x64x3); CelebA's 202,599 faces do
not. As StyleGAN's dataset tool does, this decodes every image once, cropped
and resized as the loader would (`common.data.ImageFolder`), and writes them
as uint8 into one file that `--data` reads memory-mapped: a batch is 64 reads
of 12 KB from the page cache, never a decode, and the file may be larger
than memory.

The file is an uncompressed .npz (NumPy's `np.load` opens it too) holding
`images.npy` (uint8, N x size x size x channels), `labels.npy` (int64, N;
with one subfolder per class) and `class_names.npy`, plus `meta.json`
(the folder, crop, and unreadable files left out). It is written through a
temporary file, so a stopped run never leaves half of one.
"""
import argparse
import json
import os
import sys
import tempfile
import time
import zipfile

import numpy as np

from common import data
from common.errors import UserError
from common.files import replaced_atomically


def default_output(folder, img_size):
    """DIR_64.npz beside DIR."""
    return os.path.normpath(os.path.abspath(folder)) + f"_{img_size}.npz"


def prepare(folder, img_size, out=None, channels=None, faces=False, chunk=512, verbose=True):
    """Decode every readable image of `folder` once into the array file `out`.

    Args:
        folder: a folder of images, one subfolder per class or none
            (`common.data.list_classes`).
        img_size: side of the square images written.
        out: the file to write (default `default_output`).
        channels: 1 or 3; None: 1 when the images are grey, else 3.
        faces: cut CelebA's faces (data.FACE_CROP_FRACTION of the shorter
            side), as `--dataset celeba` does; else the whole centred square.
        chunk: images decoded at once (by the loader's threads) and written.

    Returns:
        The path written. Unreadable files are left out and named (the first
        few) on stderr.
    """
    from concurrent.futures import ThreadPoolExecutor
    out = out or default_output(folder, img_size)
    if os.path.isdir(out):
        raise UserError(f"{out} is a folder: --out names the .npz file to write.")
    crop = data.FACE_CROP_FRACTION if faces else 1.0
    images = data.ImageFolder(folder, img_size, channels, crop, cache_mb=0, verbose=verbose)
    shape = images.shape
    started, kept, labels = time.perf_counter(), 0, []
    # Pass 1: decode into a raw temporary file beside `out` (the count of
    # readable images, which the array's header needs, is known at the end).
    with tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(out)) or ".") as raw, \
            ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for first in range(0, len(images), chunk):
            indices = range(first, min(first + chunk, len(images)))
            for index, pixels in zip(indices, pool.map(images._load_pixels, indices)):
                if pixels is None:
                    continue
                raw.write(np.ascontiguousarray(pixels, np.uint8).tobytes())
                kept += 1
                if images.labels is not None:
                    labels.append(images.labels[index])
            if verbose and sys.stdout.isatty():
                print(f"\r{indices.stop:,}/{len(images):,} images", end="", flush=True)
        images.close()
        if verbose and sys.stdout.isatty():
            print()
        if not kept:
            raise UserError(f"None of the {len(images):,} files in {folder} could be read: "
                            "check that they are valid jpg/png images.")
        # Pass 2: the .npz, each array stored uncompressed so it can be memory-mapped.
        raw.seek(0)
        meta = {"format": data.PREPARED_FORMAT, "folder": os.path.abspath(folder),
                "img_size": img_size, "channels": shape[2], "crop_fraction": crop,
                "files": len(images), "skipped": len(images) - kept}
        with replaced_atomically(out, keep_extension=True) as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                with archive.open("images.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array_header_2_0(member, {
                        "descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)),
                        "fortran_order": False, "shape": (kept,) + shape})
                    while block := raw.read(64 * 2**20):
                        member.write(block)
                if images.labels is not None:
                    _write_array(archive, "labels", np.asarray(labels, np.int64))
                _write_array(archive, "class_names", np.asarray(images.class_names, dtype=str))
                archive.writestr("meta.json", json.dumps(meta, indent=1))
    if verbose:
        classes = f", {len(images.class_names)} classes" if images.class_names else ""
        skipped = f" ({len(images) - kept:,} unreadable left out)" if kept < len(images) else ""
        print(f"Wrote {kept:,} images of {shape[0]}x{shape[1]}x{shape[2]}{classes}{skipped} "
              f"to {out} ({os.path.getsize(out) / 2**20:,.0f} MB) in "
              f"{time.perf_counter() - started:.0f} s; train with --data {out}.")
    return out


def _write_array(archive, name, array):
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, array, allow_pickle=False)


def command_line():
    parser = argparse.ArgumentParser(
        prog="python -m common.prepare",
        description="Decode a folder of images once, at the training size, into one "
                    "uint8 array file that --data reads memory-mapped.")
    parser.add_argument("folder", help="the folder of images (one subfolder per class, or none)")
    parser.add_argument("--img-size", type=int, required=True,
                        help="side of the square images written (the model's --img-size)")
    parser.add_argument("--out", default=None,
                        help="the .npz file to write (default: FOLDER_<img-size>.npz beside it)")
    parser.add_argument("--channels", type=int, choices=(1, 3), default=None,
                        help="1 (grey) or 3 (colour); default: the images' own")
    parser.add_argument("--faces", action="store_true",
                        help="cut the faces' square as --dataset celeba does (CelebA)")
    return parser


def main(argv=None):
    args = command_line().parse_args(argv)
    if args.img_size < 1:
        command_line().error("--img-size must be a positive number of pixels.")
    try:
        prepare(args.folder, args.img_size, args.out, args.channels, args.faces)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted; nothing written.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
