"""Draw from a saved generator: a grid, one chosen digit, or a latent-space walk.

    python -m common.generate dcgan/saved_model/generator.keras --out grid.png
    python -m common.generate cgan/saved_model/generator.keras --digit 7 --out sevens.png
    python -m common.generate dcgan/saved_model/generator.keras --walk walk.gif

Works with any generator of the zoo that maps noise (N, latent_dim), or for
conditional models [noise (N, latent_dim), label (N, 1)], to images in [-1, 1].
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

from common import cli
from common.errors import UserError
from common.images import save_image_grid, tile_images
from common.metrics import generator_inputs, load_generator


def generate(model, noise, labels=None):
    """Images in [-1, 1] for `noise` (and `labels` for conditional models)."""
    inputs = noise if labels is None else [noise, np.asarray(labels, "int32").reshape(-1, 1)]
    return np.asarray(model.predict(inputs, batch_size=256, verbose=0))


def slerp(a, b, t):
    """Spherical interpolation between noise vectors (stays where Gaussian noise lives)."""
    a_n, b_n = a / np.linalg.norm(a), b / np.linalg.norm(b)
    omega = np.arccos(np.clip(np.dot(a_n, b_n), -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def latent_walk(model, latent_dim, conditional, rng, walkers=8, stops=5, frames_per_stop=12):
    """Frames of `walkers` images, each gliding through `stops` random noise
    points (conditional: the label also steps through the digits)."""
    points = rng.normal(size=(walkers, stops + 1, latent_dim))
    frames = []
    for stop in range(stops):
        for t in np.linspace(0.0, 1.0, frames_per_stop, endpoint=False):
            noise = np.stack([slerp(p[stop], p[stop + 1], t) for p in points]).astype("float32")
            labels = (np.arange(walkers) + stop) % 10 if conditional else None
            frames.append(tile_images(generate(model, noise, labels), cols=walkers))
    return frames


@cli.run_cli
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("generator", help="a saved generator.keras")
    parser.add_argument("--out", default="generated.png", help="PNG grid to write")
    parser.add_argument("--n", type=cli.positive_int, default=None,
                        help="images in the grid (default: 25; conditional: 10 per digit)")
    parser.add_argument("--digit", type=int, choices=range(10), default=None,
                        help="conditional models: draw only this digit")
    parser.add_argument("--walk", default=None, metavar="GIF",
                        help="write a latent-space walk as an animated GIF instead of a grid")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the noise")
    args = parser.parse_args(argv)
    model = load_generator(args.generator)
    latent_dim, conditional = generator_inputs(model)
    rng = np.random.default_rng(args.seed)
    if args.digit is not None and not conditional:
        raise UserError(f"--digit needs a conditional generator (CGAN, ACGAN); "
                        f"{args.generator} takes noise only.")
    if args.walk:
        import imageio.v3 as iio
        frames = latent_walk(model, latent_dim, conditional, rng)
        big = [np.repeat(np.repeat(f, 3, axis=0), 3, axis=1) for f in frames]
        iio.imwrite(args.walk, np.stack(big), duration=80, loop=0, extension=".gif")
        print(f"Wrote a {len(frames)}-frame latent walk to {args.walk}.")
        return
    if conditional and args.digit is None:
        rows = -(-(args.n or 50) // 10)
        labels = np.tile(np.arange(10), rows)
        cols, col_labels = 10, list(range(10))
    else:
        n = args.n or 25
        labels = np.full(n, args.digit) if conditional else None
        cols, col_labels = int(np.ceil(np.sqrt(n))), None
    noise = rng.normal(size=(len(labels) if labels is not None else n, latent_dim))
    images = generate(model, noise.astype("float32"), labels)
    save_image_grid(images, args.out, cols=cols, col_labels=col_labels)
    print(f"Wrote {len(images)} generated images to {args.out}.")


if __name__ == "__main__":
    main()
