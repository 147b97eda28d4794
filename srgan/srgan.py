"""SRGAN: super-resolution GAN (Ledig et al., 2017, "Photo-realistic single image
super-resolution using a generative adversarial network"), Keras-GAN's recipe.

G turns a low-resolution image (LR) into one 4 times larger (HR): a 9x9
convolution, residual blocks, a long skip around them, two x2 upsampling
stages and a 9x9 output. D is a patch discriminator: it scores every 16x16
patch of an HR image as real or generated. Each training step trains D on
real HR crops and on G's upscaled versions of their LR images, then G, on a
second batch, through the combined model with two losses: the adversarial
loss (D should take G's images for real, weight 1e-3) and the content loss
(G's image should match the original, weight 1): the MSE of VGG19 features
when VGG19's ImageNet weights can be had, else the pixel MSE (see common/vgg.py).

Keras-GAN's G paints the whole HR image through tanh. With `bicubic_skip`
(the command line's default) G's output is added to the bicubic upscaling of
its input instead: G learns only the detail bicubic misses, starts as
bicubic, and takes colours and smooth areas from the input. Without it, the
CPU recipe tinted photos it had not seen (docs/srgan.md).

The LR input is the HR crop downscaled 4x with a bicubic filter; PSNR (RGB
and Y) and SSIM of G and of plain bicubic upscaling on held-out photos, and
G's colour error, are printed at every sample interval and written to
<out>/history.csv (conventions in common/image_quality.py).

    python srgan/srgan.py                          # offline: the photos scikit-image ships;
                                                   # a CPU recipe: 64x64 crops, 4 residual
                                                   # blocks, 4,500 SRResNet steps, 300 GAN steps
    python srgan/srgan.py --data DIR               # your own photos (CelebA: datasets/img_align_celeba)
    python srgan/srgan.py --evaluate srgan/saved_model/generator.keras [--data DIR]
    python srgan/srgan.py --upscale photo.jpg --generator srgan/saved_model/generator.keras
    python srgan/srgan.py --hr-size 256 --epochs 30000 --batch-size 1 --residual-blocks 16 \\
        --upsample-filters 256 --pretrain-steps 0 --no-bicubic-skip --no-rotate \\
        --no-shuffle-colours                       # Keras-GAN's full-size run (GPU)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """SRGAN's flags: the shared ones (common/cli.py) and its own. The defaults
    are a CPU recipe that beats bicubic upscaling on unseen photos in a run a
    CPU finishes (docs/results.md, "SRGAN"); Keras-GAN's full size is in the
    docstring."""
    from common import vgg  # its flags (--content-loss, --vgg-weights, --vgg-layer)
    parser = cli.model_arguments(__doc__.split("\n\n")[0], epochs=4800, batch_size=4,
                                 sample_interval=300, datasets=["photos"], latent_dim=None,
                                 eval_datasets=["photos"],
                                 data_help="a folder of photos (jpg/png, any size; the last "
                                           "tenth by name, up to 50, held out for scoring). "
                                           "Default: datasets/img_align_celeba if it exists, "
                                           "else photos that ship with scikit-image",
                                 epochs_help="training steps in all, the --pretrain-steps "
                                             'included; as in Keras-GAN one "epoch" is one batch',
                                 eval_help="steps between scores of G against bicubic on the "
                                           "held-out photos (PSNR, SSIM, colour error) in "
                                           "history.csv (default: --sample-interval)")
    parser.add_argument("--hr-size", type=cli.positive_int, default=64,
                        help="side of the high-resolution training crops (multiple of 16); "
                             "the low-resolution input is a quarter of it")
    parser.add_argument("--residual-blocks", type=cli.positive_int, default=4,
                        help="residual blocks in the generator (Keras-GAN: 16)")
    parser.add_argument("--upsample-filters", type=cli.positive_int, default=64,
                        help="filters of each upsampling convolution (Keras-GAN: 256)")
    parser.add_argument("--pretrain-steps", type=cli.non_negative_int, default=4500,
                        help="first steps that train G alone with the pixel MSE (SRResNet)")
    parser.add_argument("--pretrain-lr", type=cli.positive_float, default=0.001,
                        help="G's learning rate at the start of those steps, decaying to a "
                             "tenth of it (then Keras-GAN's 0.0002)")
    parser.add_argument("--bicubic-skip", action=argparse.BooleanOptionalAction, default=True,
                        help="G adds its output to the bicubic upscaling of its input "
                             "(Keras-GAN: --no-bicubic-skip)")
    parser.add_argument("--rotate", action=argparse.BooleanOptionalAction, default=True,
                        help="turn training crops by multiples of 90 degrees as well as "
                             "flipping them (Keras-GAN: --no-rotate)")
    parser.add_argument("--shuffle-colours", action=argparse.BooleanOptionalAction, default=True,
                        help="permute the RGB channels of training crops at random "
                             "(Keras-GAN: --no-shuffle-colours)")
    vgg.add_content_loss_arguments(parser)
    parser.add_argument("--evaluate", metavar="GENERATOR", default=None,
                        help="only score a saved generator (.keras) against bicubic on the "
                             "held-out photos, or on every photo in --data, and save a figure "
                             "beside the generator (or in --out)")
    parser.add_argument("--upscale", metavar="PHOTO", default=None,
                        help="only upscale one photo (any size) 4x with --generator, into "
                             "--out (a file or folder; default: PHOTO_x4.png beside it)")
    parser.add_argument("--generator", default=None,
                        help="the saved generator (.keras) that --upscale uses")
    return parser


if __name__ == "__main__":
    # Read the flags before TensorFlow loads (seconds), so that --help and a
    # mistyped flag answer at once; main(), at the end, runs the command.
    cli.parse_before_imports(command_line)

import keras
import numpy as np
from keras import layers, ops
from keras.layers import Input
from keras.models import Model

from common import vgg
from common.bicubic import BicubicUpSampling2D
from common.errors import UserError
from common.frozen import frozen
from common.model import GANModel
from common.photos import load_photos
from common.precision import use_precision
from common.superresolution import (compare_with_bicubic, evaluate_command, flat_scores,
                                    format_scores, save_comparison, upscale_command)
from common.training import binary_accuracy, generate, train_on_batch


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class PretrainThenGAN(keras.optimizers.schedules.LearningRateSchedule):
    """Cosine decay from `pretrain_lr` to a tenth of it over `pretrain_steps`, then `gan_lr`."""

    def __init__(self, pretrain_steps, pretrain_lr, gan_lr):
        self.pretrain_steps, self.pretrain_lr, self.gan_lr = pretrain_steps, pretrain_lr, gan_lr

    def __call__(self, step):
        progress = ops.minimum(ops.cast(step, "float32") / self.pretrain_steps, 1.0)
        pretrain = self.pretrain_lr * (0.1 + 0.45 * (1.0 + ops.cos(np.pi * progress)))
        return ops.where(step < self.pretrain_steps, pretrain, self.gan_lr)

    def get_config(self):
        return {"pretrain_steps": self.pretrain_steps, "pretrain_lr": self.pretrain_lr,
                "gan_lr": self.gan_lr}


class SRGAN(GANModel):
    # draw_batch reads the optimizer's step count (pre-training or not), which
    # the running step changes: each batch is drawn between two steps.
    draw_ahead = False

    def __init__(self, hr_shape=(64, 64, 3), n_residual_blocks=16, upsample_filters=64,
                 dataset=None, out_dir=None, content_loss="auto", vgg_weights="imagenet",
                 vgg_layer=vgg.DEFAULT_LAYER, pretrain_steps=0, pretrain_lr=0.0005,
                 bicubic_skip=False, precision="float32", seed=None):
        """
        Args:
            hr_shape: (rows, cols, channels) of the HR training crops; rows and
                cols multiples of 16 (D's patches). Keras-GAN: (256, 256, 3).
            n_residual_blocks: residual blocks in G (Keras-GAN and the paper: 16).
            upsample_filters: filters of the convolution in each x2 upsampling
                stage. Keras-GAN: 256 (the second stage then costs 80% of G);
                64, the width of the rest of G, is 7 times cheaper on a CPU.
            dataset: a `common.photos.HighResPhotos`; None loads the default
                (see `common.photos.load_photos`) when training starts.
            out_dir: where images/, saved_model/ and history.csv go; default this file's folder.
            content_loss: "vgg", "mse" or "auto" (VGG when its weights can be had).
            vgg_weights: "imagenet", a weights file, or None (random, for tests).
            vgg_layer: the VGG19 layer of the content loss (default: the paper's VGG54).
            pretrain_steps: the first steps train G alone with the pixel MSE
                (SRResNet), as the paper starts SRGAN from its MSE-trained SRResNet.
            pretrain_lr: G's learning rate at the start of those steps (cosine
                decay to a tenth of it); the GAN steps then use Keras-GAN's 0.0002.
            bicubic_skip: add G's output to the bicubic upscaling of its input,
                so that G learns only the detail bicubic misses and starts
                as bicubic (Kim et al., 2016, VDSR's global residual). Keras-GAN:
                False, G paints the whole image.
            precision: "float32", "mixed_bfloat16", "mixed_float16", or "auto"
                (bfloat16 where the machine has it): what G and D compute in
                (common/precision.py).
            seed: seed for weights and data order; None is random.
        """
        self.hr_rows, self.hr_cols, self.channels = hr_shape
        if self.hr_rows % 16 or self.hr_cols % 16:
            raise UserError(f"The high-resolution size {hr_shape[:2]} must be a multiple of 16 "
                            "(the discriminator halves it four times).")
        self.scale = 4  # two x2 upsampling stages
        self.hr_shape = tuple(hr_shape)
        self.lr_shape = (self.hr_rows // self.scale, self.hr_cols // self.scale, self.channels)
        self.n_residual_blocks = n_residual_blocks
        self.upsample_filters = upsample_filters
        self.vgg_layer = vgg_layer
        self.pretrain_steps = pretrain_steps
        self.pretrain_lr = pretrain_lr
        self.bicubic_skip = bicubic_skip
        self.dataset = dataset
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)

        # D scores patches: its four stride-2 convolutions leave one score per 16x16 block.
        patch_rows, patch_cols = self.hr_rows // 2**4, self.hr_cols // 2**4
        self.disc_patch = (patch_rows, patch_cols, 1)

        # Number of filters in the first layer of G and D
        self.gf = 64
        self.df = 64

        # Build and compile the discriminator. Keras-GAN trains D with the MSE
        # (least squares) on its sigmoid scores.
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss="mse",
                                   optimizer=keras.optimizers.Adam(0.0002, 0.5),
                                   metrics=[binary_accuracy])

        # Build the generator
        self.generator = self.build_generator()

        # The content loss compares G's image with the original HR image
        # (VGG19 features, or pixels when VGG19's weights cannot be had).
        self.content_loss, self.content_loss_name = vgg.choose_content_loss(
            content_loss, vgg_weights, vgg_layer)

        # The combined model takes the LR image only. Its second output is G's
        # HR image itself, and its second target the original HR image: the
        # content loss computes the VGG features of both, so users train it
        # with combined.train_on_batch(lr_imgs, [valid, hr_imgs]).
        img_lr = Input(shape=self.lr_shape)
        fake_hr = self.generator(img_lr)

        # For the combined model we will only train the generator: D is frozen
        # the Keras 2 way (see common/frozen.py), D itself stays trainable.
        validity = frozen(self.discriminator)(fake_hr)

        # Adversarial loss (D should call G's images real; binary cross-entropy,
        # the paper's -log D(G(LR))) weighted 1e-3 against the content loss.
        self.combined = Model(img_lr, [validity, fake_hr], name="combined")
        self.combined.compile(loss=["binary_crossentropy", self.content_loss],
                              loss_weights=[1e-3, 1],
                              optimizer=keras.optimizers.Adam(self.g_learning_rate(), 0.5))

        # SRResNet: G alone with the pixel MSE, for the pre-training steps (the
        # paper starts SRGAN from its MSE-trained SRResNet; the VGG content loss
        # comes with the adversary). It shares the combined model's Adam (the
        # same weights, G's), so the optimizer's step count is the training
        # step in both phases.
        self.srresnet = Model(img_lr, fake_hr, name="srresnet")
        self.srresnet.compile(loss="mse", optimizer=self.combined.optimizer)

        # G and D, and VGG19 when it measures the content loss, compute in
        # 16-bit where asked: weights, outputs, losses and BatchNorm
        # statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"hr_shape": self.hr_shape, "residual_blocks": self.n_residual_blocks,
                "upsample_filters": self.upsample_filters,
                "content_loss": "mse" if self.content_loss == "mse" else "vgg",
                "vgg_layer": self.vgg_layer, "bicubic_skip": self.bicubic_skip,
                "pretrain_steps": self.pretrain_steps, "pretrain_lr": self.pretrain_lr,
                # the augmentation of the training crops (common/photos.py)
                "rotate": getattr(self.dataset, "rotate", None),
                "shuffle_colours": getattr(self.dataset, "shuffle_colours", None)}

    def networks(self):
        """G, D, the combined model and SRResNet (G alone, for pre-training)."""
        return {**super().networks(), "srresnet": self.srresnet}

    def fixed_networks(self):
        """VGG19's feature extractor, when it measures the content loss."""
        if isinstance(self.content_loss, vgg.VGGContentLoss):
            return {"vgg": self.content_loss.features}
        return {}

    def precision_networks(self):
        return [*super().precision_networks(), *self.fixed_networks().values()]

    def g_learning_rate(self):
        """G's learning rate: Keras-GAN's 0.0002, after pre-training steps that
        start at `pretrain_lr` and decay along a cosine to a tenth of it (the
        large early steps learn fast, the small late ones settle the weights)."""
        if not self.pretrain_steps:
            return 0.0002
        return PretrainThenGAN(self.pretrain_steps, self.pretrain_lr, 0.0002)

    def build_generator(self):

        def residual_block(layer_input):
            d = layers.Conv2D(64, kernel_size=3, strides=1, padding="same")(layer_input)
            d = layers.Activation("relu")(d)
            # momentum 0.8: Keras-GAN's value; the moving statistics follow the
            # fast-changing generator closely.
            d = layers.BatchNormalization(momentum=0.8)(d)
            d = layers.Conv2D(64, kernel_size=3, strides=1, padding="same")(d)
            d = layers.BatchNormalization(momentum=0.8)(d)
            return layers.Add()([d, layer_input])

        def deconv2d(layer_input):
            """Upsampling stage: x2 nearest neighbour, then a convolution fills in detail."""
            u = layers.UpSampling2D(size=2)(layer_input)
            u = layers.Conv2D(self.upsample_filters, kernel_size=3, strides=1, padding="same")(u)
            return layers.Activation("relu")(u)

        # Image input of any size: the same G upscales crops and whole photos.
        img_lr = Input(shape=(None, None, self.channels))

        # Pre-residual block
        c1 = layers.Conv2D(64, kernel_size=9, strides=1, padding="same")(img_lr)
        c1 = layers.Activation("relu")(c1)

        # Propagate through residual blocks
        r = c1
        for _ in range(self.n_residual_blocks):
            r = residual_block(r)

        # Post-residual block, and the long skip from before the residual blocks
        c2 = layers.Conv2D(64, kernel_size=3, strides=1, padding="same")(r)
        c2 = layers.BatchNormalization(momentum=0.8)(c2)
        c2 = layers.Add()([c2, c1])

        # Upsampling
        u1 = deconv2d(c2)
        u2 = deconv2d(u1)

        if not self.bicubic_skip:
            # Output: the whole HR image, through tanh into [-1, 1]
            gen_hr = layers.Conv2D(self.channels, kernel_size=9, strides=1, padding="same",
                                   activation="tanh")(u2)
            return Model(img_lr, gen_hr, name="generator")

        # Output: the detail that bicubic upscaling misses, added to it. The
        # last convolution starts at zero, so the untrained G is bicubic; its
        # colours and smooth areas come from the input, not from what a few
        # training photos taught (without this skip, G tinted unseen photos).
        detail = layers.Conv2D(self.channels, kernel_size=9, strides=1, padding="same",
                               kernel_initializer="zeros")(u2)
        # The zoo's bicubic layer, not Keras' UpSampling2D: that one resizes
        # with another kernel on PyTorch (common/bicubic.py).
        bicubic = BicubicUpSampling2D(self.scale)(img_lr)
        gen_hr = layers.Add()([bicubic, detail])
        gen_hr = layers.Activation("hard_tanh")(gen_hr)  # clipped to [-1, 1]
        return Model(img_lr, gen_hr, name="generator")

    def build_discriminator(self):

        def d_block(layer_input, filters, strides=1, bn=True):
            """Discriminator layer"""
            d = layers.Conv2D(filters, kernel_size=3, strides=strides, padding="same")(layer_input)
            d = layers.LeakyReLU(negative_slope=0.2)(d)
            if bn:
                d = layers.BatchNormalization(momentum=0.8)(d)
            return d

        # Input img
        d0 = Input(shape=self.hr_shape)

        d1 = d_block(d0, self.df, bn=False)
        d2 = d_block(d1, self.df, strides=2)
        d3 = d_block(d2, self.df * 2)
        d4 = d_block(d3, self.df * 2, strides=2)
        d5 = d_block(d4, self.df * 4)
        d6 = d_block(d5, self.df * 4, strides=2)
        d7 = d_block(d6, self.df * 8)
        d8 = d_block(d7, self.df * 8, strides=2)

        # Dense layers act on every patch's 512 features: one score per patch.
        d9 = layers.Dense(self.df * 16)(d8)
        d10 = layers.LeakyReLU(negative_slope=0.2)(d9)
        validity = layers.Dense(1, activation="sigmoid")(d10)

        return Model(d0, validity, name="discriminator")

    def load_data(self):
        """The default photos (see common/photos.py), cropped to this model's HR size."""
        return load_photos(hr_size=self.hr_rows, scale=self.scale)

    def draw_batch(self, rng, batch_size):
        """HR crops and their bicubic LR versions for D's step, a second batch
        for G's step (Keras-GAN's loop loads one for each), and whether this
        step is one of the SRResNet pre-training steps (a Python bool: the
        compiled step has one graph for each phase)."""
        imgs_hr, imgs_lr = self.training_data().sample(rng, batch_size)
        g_imgs_hr, g_imgs_lr = self.dataset.sample(rng, batch_size)
        step = int(ops.convert_to_numpy(self.combined.optimizer.iterations))
        return imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr, np.bool_(step < self.pretrain_steps)

    def train_step(self, imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr, pretraining=False):
        """One step: D on real and generated HR images, then G through `combined`
        on the second batch; during the first `pretrain_steps` steps, G alone
        with the content loss (on the first batch).

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        if not self.pretrain_steps:
            return self.gan_step(imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr)
        if isinstance(pretraining, (bool, np.bool_)):  # a known phase (JAX's step, eager calls)
            return (self.srresnet_step(imgs_hr, imgs_lr) if pretraining
                    else self.gan_step(imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr))
        # Both phases in one graph (a compiled function creates its optimizer
        # variables in its first call only); D's logs read 0 while it waits.
        return ops.cond(pretraining, lambda: self.srresnet_step(imgs_hr, imgs_lr),
                        lambda: self.gan_step(imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr))

    def srresnet_step(self, imgs_hr, imgs_lr):
        """Pre-training (SRResNet): G learns to match the originals pixel by pixel,
        no adversary yet."""
        g = train_on_batch(self.srresnet, imgs_lr, imgs_hr)
        return {"d_loss": ops.zeros(()), "d_acc": ops.zeros(()), "g_loss": g["loss"]}

    def gan_step(self, imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr):
        """Keras-GAN's SRGAN step: D on one batch, G on the next."""
        # Adversarial ground truths: one per patch
        valid = ops.ones((ops.shape(imgs_hr)[0],) + self.disc_patch)
        fake = ops.zeros((ops.shape(imgs_hr)[0],) + self.disc_patch)

        # ----------------------
        #  Train Discriminator
        # ----------------------
        # From low res. image generate high res. version
        fake_hr = generate(self.generator, imgs_lr)
        # Train the discriminator (original images = real / generated = fake)
        d_real = train_on_batch(self.discriminator, imgs_hr, valid)
        d_fake = train_on_batch(self.discriminator, fake_hr, fake)

        # ------------------
        #  Train Generator
        # ------------------
        # G wants D to label its images real, and its images to match the
        # originals; on a fresh batch, as Keras-GAN's loop loads one here.
        valid = ops.ones((ops.shape(g_imgs_hr)[0],) + self.disc_patch)
        g = train_on_batch(self.combined, g_imgs_lr, [valid, g_imgs_hr])

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=16, sample_interval=200, **options):
        """Train for `epochs` steps: as in Keras-GAN one "epoch" is one batch.
        Called again on this object it trains `epochs` more steps of the same
        run, as Keras' `fit` does; with `resume=True` (another object or
        process) `epochs` is the total the run should reach.

        Every `sample_interval` steps (and at the end) PSNR and SSIM on the
        held-out photos are printed and added to `<out>/history.csv`, a
        comparison figure goes to `<out>/images/`, the models to
        `<out>/saved_model/` and a checkpoint to `<out>/checkpoints/`.
        `options` are those of `GANModel.train` (common/model.py).
        """
        return super().train(epochs, batch_size, sample_interval, **options)

    def measure(self, verbose=False):
        """PSNR and SSIM of bicubic upscaling and of G on the held-out photos, on
        the Y channel and on RGB (4-pixel border cropped, 8-bit values; see
        common/image_quality.py), and the colour error: the mean of each RGB
        channel minus the original's, in levels (the worst channel)."""
        scores = flat_scores(self.compared())
        if verbose:
            print("\n" + format_scores(scores))
        return scores

    def sample_images(self, step):
        """Save a figure of held-out photos: low resolution, bicubic, SRGAN and the
        original side by side, with each photo's PSNR."""
        path = os.path.join(self.out_dir, "images", f"srgan_{step}.png")
        return save_comparison(self.compared(), self.dataset.test_pairs(), path, f"step {step}")

    def compared(self):
        """Bicubic and G against the originals on the held-out photos
        (`compare_with_bicubic`), computed once per step (GANModel.measurement)."""
        return self.measurement(lambda: compare_with_bicubic(
            self.generator, self.training_data().test_pairs(), self.scale))



@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    cli.check_one_command(args, "upscale", "PHOTO")
    if args.upscale or args.evaluate:  # no training: the GPUs as asked, and no word of training
        cli.set_up_gpus(args, verbose=False)
        if args.upscale:
            return upscale_command(args.upscale, args.generator, args.out)
        return evaluate_command(args.evaluate, args.data, args.out)
    strategy = cli.set_up_devices(args)
    dataset = load_photos(args.data, hr_size=args.hr_size, rotate=args.rotate,
                          shuffle_colours=args.shuffle_colours)
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = SRGAN(hr_shape=dataset.shape, n_residual_blocks=args.residual_blocks,
                    upsample_filters=args.upsample_filters, dataset=dataset, out_dir=args.out,
                    content_loss=args.content_loss, vgg_weights=args.vgg_weights,
                    vgg_layer=args.vgg_layer, pretrain_steps=args.pretrain_steps,
                    pretrain_lr=args.pretrain_lr, bicubic_skip=args.bicubic_skip,
                    precision=args.precision, seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
