"""Pix2Pix: image-to-image translation with a conditional GAN (Isola et al., 2017,
"Image-to-image translation with conditional adversarial networks"), Keras-GAN's recipe.

G is a U-Net: strided convolutions down to a 2x2 map, then upsampling
convolutions back, each joined to the encoder's map of the same size (skip
connections), tanh out. D is a PatchGAN: it sees the input image and an
output image (real or G's) stacked as channels and scores every patch (a
16x smaller map). Each training step trains D on (A, B) pairs labelled 1 and
(G(B), B) labelled 0 with the squared error (least squares), then G through
the combined model: D's score of (G(B), B) pulled to 1 (squared error, weight
1) plus the L1 distance of G(B) to A (weight 100); Adam(0.0002, 0.5) for both.

With `input_skip` (the command line's default) G adds what it paints to its
input instead, its last convolution starting at zero: the untrained G is the
do-nothing baseline and learns only what to change. Keras-GAN's G, painting
the whole image through tanh, stayed far below the baseline after hundreds
of steps on a mildly degraded folder (docs/results.md, "Pix2Pix").

Data: a folder in the pix2pix datasets' layout (train/, and test/ or val/,
of files holding A and B side by side); G turns B (the right half) into A, as
Keras-GAN, or A into B with --direction AtoB. With no --data, an offline
task: restore photo crops that were blurred and made noisy (common/paired.py).
At every sample interval the PSNR, SSIM and L1 of G(B) against A on the test
pairs, beside the same numbers for B itself (the do-nothing baseline), are
printed and written to <out>/history.csv.

    python pix2pix/pix2pix.py                          # offline: restore degraded photo crops, 64x64
    python pix2pix/pix2pix.py --data datasets/facades  # your own pairs (facades: labels -> photo)
    python pix2pix/pix2pix.py --evaluate pix2pix/saved_model/generator.keras [--data DIR]
    python pix2pix/pix2pix.py --translate IMG_OR_DIR --generator pix2pix/saved_model/generator.keras
    python pix2pix/pix2pix.py --data datasets/facades --img-size 256 --batch-size 1 \\
        --gf 64 --df 64 --no-input-skip --epochs 40000   # Keras-GAN's recipe (GPU)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """Pix2Pix's flags: the shared ones (common/cli.py) and its own. The
    defaults are a CPU recipe (64x64 offline, a folder's own size up to 128,
    batch 4); Keras-GAN's 256x256 with batch 1 is in the docstring."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0], epochs=2000, batch_size=4,
                                 sample_interval=200, datasets=["pairs"], latent_dim=None,
                                 eval_datasets=["pairs"],
                                 data_help="a folder in the pix2pix datasets' layout: train/, and "
                                           "test/ or val/ (scored), of .jpg/.png files holding A "
                                           "(left) and B (right) side by side. Default: an "
                                           "offline task, restoring blurred, noisy crops of "
                                           "photos shipped with scikit-image and matplotlib",
                                 eval_help="steps between scores of G against its input on the "
                                           "test pairs (PSNR, SSIM, L1) in history.csv (default: "
                                           "--sample-interval)")
    parser.add_argument("--img-size", type=cli.positive_int, default=None,
                        help="side of the square images (each half of a pair is resized to it; "
                             "a multiple of 16). Default: with --data, the halves' own side "
                             "rounded down to a multiple of 16, at most 128; the offline task's "
                             "64. Keras-GAN: 256")
    parser.add_argument("--direction", choices=["BtoA", "AtoB"], default="BtoA",
                        help="BtoA: G turns the right half into the left (Keras-GAN); AtoB: "
                             "the left into the right")
    parser.add_argument("--input-skip", action=argparse.BooleanOptionalAction, default=True,
                        help="G adds its output to its input, starting as the identity (the "
                             "do-nothing baseline) and learning what to change; suits restoring "
                             "images (Keras-GAN: --no-input-skip, G paints the whole image)")
    parser.add_argument("--gf", type=cli.positive_int, default=32,
                        help="filters of G's first layer (Keras-GAN: 64)")
    parser.add_argument("--df", type=cli.positive_int, default=32,
                        help="filters of D's first layer (Keras-GAN: 64)")
    parser.add_argument("--evaluate", metavar="GENERATOR", default=None,
                        help="only score a saved generator (.keras) against the do-nothing "
                             "baseline on the test pairs of --data (its test/ or val/, or every "
                             "pair in a folder of pairs) or of the offline task, and save a "
                             "figure beside the generator (or in --out)")
    parser.add_argument("--translate", metavar="IMG_OR_DIR", default=None,
                        help="only translate an image, or every .jpg/.png under a folder, with "
                             "--generator (one image, G's input, not a pair); written as "
                             "NAME_pix2pix.png into --out (default: beside each image). The same "
                             "as python -m common.generate G.keras --input IMG_OR_DIR")
    parser.add_argument("--fit", choices=("resize", "tile"), default="resize",
                        help="with --translate: resize each image to G's size and back "
                             "(default), or translate it at its own resolution in overlapping "
                             "tiles (images larger than G's crops; common/translate.py)")
    parser.add_argument("--generator", default=None,
                        help="the saved generator (.keras) that --translate uses")
    return parser


if __name__ == "__main__":
    # Read the flags before TensorFlow loads (seconds), so that --help and a
    # mistyped flag answer at once; main(), at the end, runs the command.
    cli.parse_before_imports(command_line)

import keras
from keras import layers, ops
from keras.layers import Input
from keras.models import Model

from common import paired
from common.errors import UserError
from common.frozen import frozen
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch


def unet_depth(size):
    """Keras-GAN's U-Net halves 256 seven times, down to 2x2: the number of
    halvings for `size`, at most 7, that leave a map of at least 2 pixels."""
    depth = 0
    while depth < 7 and size % 2 ** (depth + 1) == 0 and size // 2 ** (depth + 1) >= 2:
        depth += 1
    return depth


class Pix2Pix(GANModel):
    sample_arrays = ()  # the grids show the dataset's fixed test pairs

    def __init__(self, img_shape=(64, 64, 3), gf=64, df=64, dataset=None, out_dir=None,
                 direction="BtoA", input_skip=False, precision="float32", seed=None):
        """
        Args:
            img_shape: (rows, cols, channels) of the images; rows and cols
                multiples of 16 (D's patches). Keras-GAN: (256, 256, 3).
            gf, df: filters in the first layer of G and of D (Keras-GAN: 64).
            dataset: a `common.paired.PairedImages`; None loads the offline
                task (common/paired.py) when training starts.
            out_dir: where images/, saved_model/ and history.csv go; default this file's folder.
            direction: "BtoA" (G turns B into A, Keras-GAN) or "AtoB"; what
                the data set gives G is set by the data set, this is recorded.
            input_skip: G adds its output to its input (clipped to [-1, 1]),
                its last convolution starting at zero, so the untrained G is
                the identity, the do-nothing baseline, and learns only what
                to change. Keras-GAN: False (G paints the whole image through
                tanh); the command line's default is True (docs/pix2pix.md).
            precision: "float32", "mixed_bfloat16", "mixed_float16" or "auto"
                (common/precision.py).
            seed: seed for weights, data order and the offline task's noise; None is random.
        """
        self.img_rows, self.img_cols, self.channels = img_shape
        self.img_shape = tuple(img_shape)
        if self.img_rows % 16 or self.img_cols % 16:
            raise UserError(f"Pix2Pix's image size must be a multiple of 16 (D scores 16x16 "
                            f"patches); {self.img_rows}x{self.img_cols} was asked for.")
        self.dataset = dataset
        self.direction = getattr(dataset, "direction", direction)
        self.input_skip = bool(input_skip)
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)

        # Calculate output shape of D (PatchGAN)
        self.disc_patch = (self.img_rows // 2 ** 4, self.img_cols // 2 ** 4, 1)
        self.depth = unet_depth(min(self.img_rows, self.img_cols))

        # Number of filters in the first layer of G and D
        self.gf, self.df = gf, df

        # Build and compile the discriminator: least squares on every patch.
        # (Its accuracy reads a score above 0.5, halfway between the targets, as "real".)
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss="mse", optimizer=keras.optimizers.Adam(0.0002, 0.5),
                                   metrics=[binary_accuracy])

        # -------------------------
        #  Construct Computational
        #    Graph of Generator
        # -------------------------

        # Build the generator
        self.generator = self.build_generator()

        # By conditioning on B generate a fake version of A. (Keras-GAN's
        # combined model also takes A as an input, which it never uses.)
        img_B = Input(shape=self.img_shape)
        fake_A = self.generator(img_B)

        # For the combined model we will only train the generator: D is frozen
        # the Keras 2 way (see common/frozen.py), D itself stays trainable.
        # D determines the validity of translated images / condition pairs.
        valid = frozen(self.discriminator)([fake_A, img_B])

        # Least squares against "real" on every patch, plus L1 to A weighted
        # 100. Keras 3 optimizers belong to one set of weights: G gets its own
        # Adam with the same settings.
        self.combined = Model(img_B, [valid, fake_A], name="combined")
        self.combined.compile(loss=["mse", "mae"], loss_weights=[1, 100],
                              optimizer=keras.optimizers.Adam(0.0002, 0.5))

        # G and D compute in 16-bit where asked: weights, outputs, losses and
        # BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"img_shape": self.img_shape, "gf": self.gf, "df": self.df,
                "direction": self.direction, "input_skip": self.input_skip,
                "data": getattr(self.dataset, "source", None)}

    def build_generator(self):
        """U-Net Generator"""

        def conv2d(layer_input, filters, f_size=4, bn=True):
            """Layers used during downsampling"""
            d = layers.Conv2D(filters, kernel_size=f_size, strides=2, padding="same")(layer_input)
            d = layers.LeakyReLU(negative_slope=0.2)(d)
            if bn:
                d = layers.BatchNormalization(momentum=0.8)(d)
            return d

        def deconv2d(layer_input, skip_input, filters, f_size=4):
            """Layers used during upsampling"""
            u = layers.UpSampling2D(size=2)(layer_input)
            u = layers.Conv2D(filters, kernel_size=f_size, strides=1, padding="same",
                              activation="relu")(u)
            u = layers.BatchNormalization(momentum=0.8)(u)
            return layers.Concatenate()([u, skip_input])

        # Image input
        d0 = Input(shape=self.img_shape)

        # Downsampling: gf, 2gf, 4gf, then 8gf (Keras-GAN: 7 layers at 256x256)
        filters = [self.gf * m for m in (1, 2, 4, 8, 8, 8, 8)][:self.depth]
        downs = [d0]
        for i, f in enumerate(filters):
            downs.append(conv2d(downs[-1], f, bn=i > 0))

        # Upsampling, each joined to the encoder's map of its size
        u = downs[-1]
        for skip, f in zip(downs[-2:0:-1], filters[-2::-1]):
            u = deconv2d(u, skip, f)

        u = layers.UpSampling2D(size=2)(u)
        if not self.input_skip:
            output_img = layers.Conv2D(self.channels, kernel_size=4, strides=1, padding="same",
                                       activation="tanh")(u)
            return Model(d0, output_img, name="generator")

        # The change to the input, added to it: the last convolution starts at
        # zero, so the untrained G returns its input (the do-nothing baseline).
        change = layers.Conv2D(self.channels, kernel_size=4, strides=1, padding="same",
                               kernel_initializer="zeros")(u)
        output_img = layers.Activation("hard_tanh")(layers.Add()([d0, change]))  # in [-1, 1]
        return Model(d0, output_img, name="generator")

    def build_discriminator(self):

        def d_layer(layer_input, filters, f_size=4, bn=True):
            """Discriminator layer"""
            d = layers.Conv2D(filters, kernel_size=f_size, strides=2, padding="same")(layer_input)
            d = layers.LeakyReLU(negative_slope=0.2)(d)
            if bn:
                d = layers.BatchNormalization(momentum=0.8)(d)
            return d

        img_A = Input(shape=self.img_shape)
        img_B = Input(shape=self.img_shape)

        # Concatenate image and conditioning image by channels to produce input
        combined_imgs = layers.Concatenate(axis=-1)([img_A, img_B])

        d1 = d_layer(combined_imgs, self.df, bn=False)
        d2 = d_layer(d1, self.df * 2)
        d3 = d_layer(d2, self.df * 4)
        d4 = d_layer(d3, self.df * 8)

        # One score per patch, no activation: regressed onto 1 (real) or 0 (generated).
        validity = layers.Conv2D(1, kernel_size=4, strides=1, padding="same")(d4)
        return Model([img_A, img_B], validity, name="discriminator")

    def load_data(self):
        """The offline task (common/paired.py) at this model's size."""
        return paired.load_paired(None, img_size=self.img_rows)

    def draw_batch(self, rng, batch_size):
        """G's targets and inputs (Keras-GAN's imgs_A, imgs_B), drawn with `rng`."""
        imgs_A, imgs_B = self.training_data().sample(rng, batch_size)
        return imgs_A, imgs_B

    def train_step(self, imgs_A, imgs_B):
        """One pass of Keras-GAN's loop: D on real and translated pairs, then G
        through `combined`. Runs compiled as a whole (see common/training.py);
        each `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        # Adversarial loss ground truths
        valid = ops.ones((ops.shape(imgs_A)[0],) + self.disc_patch)
        fake = ops.zeros((ops.shape(imgs_A)[0],) + self.disc_patch)

        # ---------------------
        #  Train Discriminator
        # ---------------------
        # Condition on B and generate a translated version
        fake_A = generate(self.generator, imgs_B)
        # Train the discriminators (original images = real / generated = Fake)
        d_real = train_on_batch(self.discriminator, [imgs_A, imgs_B], valid)
        d_fake = train_on_batch(self.discriminator, [fake_A, imgs_B], fake)

        # -----------------
        #  Train Generator
        # -----------------
        g = train_on_batch(self.combined, imgs_B, [valid, imgs_A])

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=4, sample_interval=200, **options):
        """Train for `epochs` steps: as in Keras-GAN one "epoch" is one batch.
        Called again on this object it trains `epochs` more steps of the same
        run, as Keras' `fit` does; with `resume=True` (another object or
        process) `epochs` is the total the run should reach.

        Every `sample_interval` steps (and at the end) PSNR, SSIM and L1 of G
        and of its input on the test pairs are printed and added to
        `<out>/history.csv`, a grid (rows B, G(B), A) goes to `<out>/images/`,
        the models to `<out>/saved_model/` and a checkpoint to `<out>/checkpoints/`.
        `options` are those of `GANModel.train` (common/model.py).
        """
        return super().train(epochs, batch_size, sample_interval, **options)

    def measure(self, verbose=False):
        """PSNR, SSIM and L1 of G(B) against A on the test pairs, and of B itself
        (the do-nothing baseline): {psnr_g, ssim_g, l1_g, psnr_input, ...}."""
        flat = paired.flat_scores(self.compared())
        if verbose:
            print("\n" + paired.format_scores(flat))
        return flat

    def compared(self):
        """G(B) and B against A on the test pairs (`paired.compare_with_input`),
        computed once per step (GANModel.measurement)."""
        return self.measurement(lambda: paired.compare_with_input(self.generator,
                                                                  self.training_data()))

    def sample_images(self, step):
        """Save a grid of test pairs: rows B (G's input), G(B) and A (the target),
        with each image's PSNR against A."""
        path = os.path.join(self.out_dir, "images", f"pix2pix_{step}.png")
        return paired.save_grid(self.compared(), self.dataset, path, f"step {step}", self.direction)


@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    cli.check_one_command(args, "translate", "IMG_OR_DIR")
    if args.fit != "resize" and not args.translate:
        raise UserError("--fit says how --translate's images are fitted to G: add --translate "
                        "IMG_OR_DIR, or leave out --fit.")
    if args.evaluate or args.translate:  # no training: the GPUs as asked, and no word of training
        cli.set_up_gpus(args, verbose=False)
        if args.translate:
            return paired.translate_command(args.translate, args.generator, args.out, args.fit)
        return paired.evaluate_command(args.evaluate, args.data, args.out, args.direction)
    strategy = cli.set_up_devices(args)
    dataset = paired.load_paired(args.data, img_size=args.img_size, direction=args.direction)
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = Pix2Pix(img_shape=dataset.shape, gf=args.gf, df=args.df, dataset=dataset,
                      out_dir=args.out, direction=args.direction, input_skip=args.input_skip,
                      precision=args.precision,
                      seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
