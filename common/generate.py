"""Draw from a saved generator: a grid, one chosen class, or a latent-space walk.

    python -m common.generate dcgan/saved_model/generator.keras --out grid.png
    python -m common.generate cgan/saved_model/generator.keras --class 7 --out sevens.png
    python -m common.generate runs/pets/saved_model/generator.keras --class cat
    python -m common.generate dcgan/saved_model/generator.keras --walk walk.gif
    python -m common.generate gan/saved_model/generator.keras --out curves.png  # the sine GAN
    python -m common.generate infogan/saved_model/generator.keras --class 3  # code value 3
    python -m common.generate pix2pix/saved_model/generator.keras --input photos/ --out fixed/
    python -m common.generate cyclegan/saved_model/g_AB.keras --input digit.png

Works with any generator of the zoo that maps noise (N, latent_dim), or for
conditional models [noise (N, latent_dim), label (N, 1)], to images in [-1, 1];
the sine GAN's generator (noise to 15 points of a curve) gives a plot of its
curves against sin(pi x), as training draws them. A conditional model's class
names are read from the class_names.json its run saved beside it (else the
classes are numbered 0, 1, ...); `--class` takes a name or a number, and
`--digit` is the same flag under its older name. An InfoGAN generator (a
codes.json beside it says how its one input is laid out) is drawn as it
trained: noise, a one-hot categorical code, continuous codes; its grid has
one column per code value, and `--class K` draws code value K.

An image-to-image generator (pix2pix's, CycleGAN's g_AB / g_BA) translates
your images instead: `--input IMG_OR_DIR`, with `--fit resize` or `--fit
tile` for images of another size than G's (common/translate.py says how).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

from common import cli
from common.errors import UserError
from common.data import SINE_POINTS, sine_target, sine_x
from common.images import save_curves, save_image_grid, shown_classes, tile_images
from common.evaluation import (generator_input, generator_inputs, load_generator,
                               saved_class_names, saved_codes)


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


def lerp(a, b, t):
    """The point a fraction t of the way from a to b in a straight line."""
    return (1 - t) * a + t * b


def latent_walk(model, latent_dim, conditional, rng, walkers=8, stops=5, frames_per_stop=12,
                num_classes=10, codes=None):
    """Frames of `walkers` images, each gliding through `stops` random noise
    points (conditional: the label also steps through the classes; InfoGAN's
    `codes`: each walker keeps its categorical code value and glides in a
    straight line through noise uniform in [-1, 1], as InfoGAN draws it, its
    continuous codes 0)."""
    if codes:
        points = rng.uniform(-1, 1, size=(walkers, stops + 1, codes["noise"]))
        between = lerp  # a straight line stays inside the cube
    else:
        points = rng.normal(size=(walkers, stops + 1, latent_dim))
        between = slerp
    frames = []
    for stop in range(stops):
        for t in np.linspace(0.0, 1.0, frames_per_stop, endpoint=False):
            noise = np.stack([between(p[stop], p[stop + 1], t) for p in points]).astype("float32")
            if codes:
                one_hot = np.eye(codes["categorical"])[np.arange(walkers) % codes["categorical"]]
                noise = np.concatenate([noise, one_hot, np.zeros((walkers, codes["continuous"]))],
                                       axis=1).astype("float32")
            labels = (np.arange(walkers) + stop) % num_classes if conditional else None
            frames.append(tile_images(generate(model, noise, labels), cols=walkers))
    return frames


def draw_curves(model, latent_dim, rng, args):
    """The sine GAN's samples: `args.n` curves (default 25) plotted against
    their target, as `gan/gan.py` draws them during training."""
    points = int(model.outputs[0].shape[-1])
    if args.walk:
        raise UserError(f"--walk animates images; {args.generator} draws curves of {points} "
                        "points (the sine GAN): leave out --walk.")
    if points != SINE_POINTS:
        raise UserError(f"{args.generator} draws curves of {points} points; only the sine "
                        f"GAN's {SINE_POINTS}-point curves can be plotted against their target.")
    noise = rng.normal(size=(args.n or 25, latent_dim)).astype("float32")
    curves = generate(model, noise)
    save_curves(curves, sine_x(), sine_target(), args.out,
                title=f"{len(curves)} curves from {os.path.basename(args.generator)}")
    print(f"Wrote {len(curves)} generated curves to {args.out}.")


def class_index(chosen, class_names):
    """The label of the class `chosen` names (a class name, else a number);
    a UserError listing the classes otherwise."""
    if chosen in class_names:
        return class_names.index(chosen)
    if chosen.isdigit() and int(chosen) < len(class_names):
        return int(chosen)
    shown = ", ".join(class_names[:20]) + (", ..." if len(class_names) > 20 else "")
    raise UserError(f"This generator has no class {chosen!r}: choose one of {shown} "
                    f"(or a number from 0 to {len(class_names) - 1}).")


def command_line():
    """The command's flags (no Keras needed: `--help` answers at once)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     usage="%(prog)s GENERATOR [options]")
    parser.add_argument("generator", help="a saved generator.keras")
    parser.add_argument("--out", default=None,
                        help="PNG grid to write (default generated.png); with --input, the "
                             "folder for the translated images (default: beside each image)")
    parser.add_argument("--n", type=cli.positive_int, default=None,
                        help="images in the grid (default: 25; conditional: 5 per class "
                             "shown, at most 10 classes)")
    parser.add_argument("--class", "--digit", dest="chosen", default=None, metavar="NAME",
                        help="conditional models: draw only this class, by name (as its class "
                             "folder was called) or number; InfoGAN: this categorical code "
                             "value; --digit is the same flag")
    parser.add_argument("--walk", default=None, metavar="GIF",
                        help="write a latent-space walk as an animated GIF instead of a grid")
    parser.add_argument("--seed", type=cli.seed, default=None, help="random seed for the noise")
    parser.add_argument("--input", default=None, metavar="IMG_OR_DIR",
                        help="image-to-image generators (pix2pix, CycleGAN): translate this "
                             "image, or every .jpg/.png under this folder")
    parser.add_argument("--fit", choices=("resize", "tile"), default="resize",
                        help="with --input: resize each image to G's size and back (default), "
                             "or translate it at its own resolution in overlapping tiles")
    return parser


def translate_command(args):
    """`GENERATOR --input IMG_OR_DIR`: the images translated (common/translate.py)."""
    from common import translate
    for flag, value in (("--class", args.chosen), ("--walk", args.walk), ("--n", args.n)):
        if value is not None:
            raise UserError(f"{flag} draws from a generator of noise; --input translates "
                            f"images: leave out {flag}.")
    model = load_generator(args.generator, expects="translator",
                           command="common.generate --input")
    return translate.translate_files(model, args.input, args.generator, out=args.out,
                                     fit=args.fit)


@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    with cli.tensorflow_chatter_hidden():
        import keras  # noqa: F401  (and its backend, loaded here with its start-up lines kept quiet)
    if args.input is not None:
        return translate_command(args)
    if args.fit != "resize":
        raise UserError("--fit says how --input's images are fitted to an image-to-image "
                        "generator: add --input IMG_OR_DIR, or leave out --fit.")
    model = load_generator(args.generator, command="common.generate",
                           advice={"translator": "to translate images with it, add --input "
                                                 "IMG_OR_DIR"})
    args.out = args.out or "generated.png"
    latent_dim, conditional = generator_inputs(model)
    codes = None if conditional else saved_codes(args.generator, model)
    rng = np.random.default_rng(args.seed)
    if args.chosen is not None and not conditional and not codes:
        raise UserError(f"--class needs a conditional generator (CGAN, ACGAN) or InfoGAN's; "
                        f"{args.generator} takes noise only.")
    if codes:  # InfoGAN: its categorical code's values play the classes
        class_names = [f"code {k}" for k in range(codes["categorical"])]
    else:
        class_names = saved_class_names(args.generator, model) if conditional else []
    chosen = class_index(args.chosen, class_names) if args.chosen is not None else None
    draws_curves = len(model.outputs[0].shape) == 2  # (N, points): the sine GAN
    if draws_curves:
        return draw_curves(model, latent_dim, rng, args)
    if args.walk:
        import imageio.v3 as iio
        frames = latent_walk(model, latent_dim, conditional, rng,
                             num_classes=len(class_names) or 10, codes=codes)
        big = [np.repeat(np.repeat(f, 3, axis=0), 3, axis=1) for f in frames]
        iio.imwrite(args.walk, np.stack(big), duration=80, loop=0, extension=".gif")
        print(f"Wrote a {len(frames)}-frame latent walk to {args.walk}.")
        return
    if (conditional or codes) and chosen is None:
        shown = shown_classes(len(class_names))
        rows = -(-(args.n or 5 * len(shown)) // len(shown))
        labels = np.tile(shown, rows)
        cols, col_labels = len(shown), [class_names[k] for k in shown]
    else:
        n = args.n or 25
        labels = np.full(n, chosen) if conditional or codes else None
        cols, col_labels = int(np.ceil(np.sqrt(n))), None
    if codes:  # the code values go into G's one input
        noise = generator_input(rng, len(labels), latent_dim, codes, categorical=labels)
        labels = None
    else:
        noise = rng.normal(size=(len(labels) if labels is not None else n, latent_dim))
    images = generate(model, noise.astype("float32"), labels)
    save_image_grid(images, args.out, cols=cols, col_labels=col_labels)
    print(f"Wrote {len(images)} generated images to {args.out}.")


if __name__ == "__main__":
    # The flags first, then Keras and its backend quietly, as the model scripts do.
    cli.parse_before_imports(command_line)
    main()
