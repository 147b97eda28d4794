"""Folders in the pix2pix layout made from photos the zoo never trains on:
scikit-learn's two sample photos (installed with mlxtend). train/ holds
random crops of china.jpg, test/ crops of flower.jpg (or the reverse with
--swap); each file is A (the clean crop, left) beside B (right): the crop
blurred (Pillow's GaussianBlur) and with Gaussian noise added. With
--train-from packaged, train/ holds crops of the zoo's own training photos
(scikit-image's, common.photos.PACKAGED_TRAIN: people, objects, a street,
microscopy, sky, textures) and test/ crops of both scikit-learn photos, which
the zoo never trains on: a varied folder, as a user's would be. Pix2Pix is
then trained and scored on it as a user would:

    python benchmarks/pix2pix_folders.py /tmp/p2p/native64 --crop 64 --blur 1.5 --noise 12
    python pix2pix/pix2pix.py --data /tmp/p2p/native64 --out /tmp/p2p/run --seed 0

The figures these gave are in docs/results.md ("Pix2Pix", "Photos of
another kind").
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/


def write_pairs(photo, count, folder, crop, blur, noise, rng, first=0):
    os.makedirs(folder, exist_ok=True)
    for i in range(first, first + count):
        y = rng.integers(0, photo.shape[0] - crop)
        x = rng.integers(0, photo.shape[1] - crop)
        a = photo[y:y + crop, x:x + crop]
        b = np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(blur)), dtype=float)
        b = np.clip(np.round(b + rng.normal(0, noise, b.shape)), 0, 255).astype(np.uint8)
        Image.fromarray(np.concatenate([a, b], axis=1)).save(os.path.join(folder, f"{i:03d}.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--crop", type=int, default=64, help="side of each crop (pixels)")
    parser.add_argument("--blur", type=float, default=1.5, help="GaussianBlur radius")
    parser.add_argument("--noise", type=float, default=12, help="noise sigma (levels of 255)")
    parser.add_argument("--train", type=int, default=200, help="training pairs")
    parser.add_argument("--test", type=int, default=24, help="test pairs")
    parser.add_argument("--swap", action="store_true", help="train on flower, test on china")
    parser.add_argument("--train-from", choices=["china", "packaged"], default="china",
                        help="china: crops of china.jpg (flower.jpg with --swap); packaged: "
                             "of the zoo's training photos, testing on both sklearn photos")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from sklearn.datasets import load_sample_images
    china, flower = load_sample_images().images
    rng = np.random.default_rng(args.seed)
    if args.train_from == "packaged":
        from common import photos
        train = [p for p in photos.packaged_photos(photos.PACKAGED_TRAIN).values()
                 if min(p.shape[:2]) > args.crop]
        # The same number of crops from each photo, numbered on across photos.
        for split, sources, count in (("train", train, args.train),
                                      ("test", [china, flower], args.test)):
            for k, photo in enumerate(sources):
                share = count // len(sources) + (k < count % len(sources))
                write_pairs(photo, share, os.path.join(args.folder, split), args.crop,
                            args.blur, args.noise, rng, first=sum(
                                count // len(sources) + (j < count % len(sources))
                                for j in range(k)))
    else:
        train, test = (flower, china) if args.swap else (china, flower)
        for photo, count, split in ((train, args.train, "train"), (test, args.test, "test")):
            write_pairs(photo, count, os.path.join(args.folder, split), args.crop, args.blur,
                        args.noise, rng)
    print(f"Wrote {args.train} training and {args.test} test pairs to {args.folder}.")


if __name__ == "__main__":
    main()
