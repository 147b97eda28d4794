"""CGAN: conditional GAN (Mirza & Osindero, 2014), Keras-GAN's recipe.

Both networks are told which digit is meant. G multiplies its noise by a
learned embedding of the label, then draws with the multilayer perceptron of
gan/; D multiplies the flattened image by a learned embedding of the label
(one weight per pixel and digit), so it judges "is this a real 7?", not "is
this a real digit?". Each training step trains D on a real and on a generated
batch with the real batch's labels, then G through the combined model (G
followed by a frozen D) on labels drawn at random.

`--arch conv` swaps in a conditional DCGAN: transposed convolutions in G,
strided convolutions in D, the label an embedding concatenated to the noise
and an extra image channel for D.

    python cgan/cgan.py                 # MNIST digits, Keras-GAN's MLP recipe
    python cgan/cgan.py --arch conv     # the conditional DCGAN
    python cgan/cgan.py --data DIR      # your own images, one subfolder per class
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """CGAN's flags: the shared ones (common/cli.py) with Keras-GAN's defaults, and --arch."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0], epochs=20000, batch_size=32,
                                 sample_interval=1000,
                                 datasets=["mnist", "fashion_mnist", "cifar10", "cifar100"])
    cli.image_arguments(parser)
    parser.add_argument("--arch", choices=["conv", "mlp"], default="mlp",
                        help="mlp: Keras-GAN's multilayer perceptrons; conv: a conditional "
                             "DCGAN (transposed convolutions in G, convolutions in D)")
    return parser


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
from common.images import class_grid_inputs, save_class_grid
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch


class CGAN(GANModel):
    arch = "mlp"  # --arch: Keras-GAN's multilayer perceptrons

    def __init__(self, img_shape=(28, 28, 1), num_classes=None, latent_dim=100, dataset=None,
                 out_dir=None, precision="float32", seed=None, class_names=None):
        """
        Args:
            img_shape: (rows, cols, channels) of one image.
            num_classes: how many labels there are; default len(class_names),
                else 10 (the digits).
            latent_dim: size of the noise vector.
            dataset: `common.data.load_training_data(..., labelled=True)`, or
                (images (N, rows, cols, channels) in [-1, 1], labels (N,) ints)
                as `common.data.load_mnist` returns; None loads MNIST when
                training starts.
            out_dir: where images/ and saved_model/ go; default this file's folder.
            precision: "float32", "mixed_bfloat16", "mixed_float16", or "auto"
                (bfloat16 where the machine has it): what G and D compute in
                (common/precision.py).
            seed: seed for weights, data order and noise; None is random.
            class_names: the name of each label, for the sample grids and the
                saved generator (`common.generate --class`); default "0", "1", ...
        """
        self.class_names = data.class_names_of(num_classes, class_names)
        num_classes = len(self.class_names)
        self.img_rows, self.img_cols, self.channels = img_shape
        self.img_shape = tuple(img_shape)
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        self.dataset = dataset
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)
        # The same inputs for every sample grid, so grids are comparable:
        # one column per class (at most 10 shown), one noise vector per row.
        self.sample_noise, self.sample_labels = class_grid_inputs(
            self.rng, latent_dim, num_classes, rows=10)

        # Build and compile the discriminator
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss="binary_crossentropy",
                                   optimizer=keras.optimizers.Adam(0.0002, 0.5),
                                   metrics=[binary_accuracy])

        # Build the generator
        self.generator = self.build_generator()

        # The generator takes noise and the target label as input
        # and generates the corresponding digit of that label
        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype="int32")
        img = self.generator([noise, label])

        # For the combined model we will only train the generator: D is frozen
        # the Keras 2 way (see common/frozen.py), D itself stays trainable.
        # D judges the image against the label G was asked for.
        valid = frozen(self.discriminator)([img, label])

        # The combined model (stacked generator and discriminator) trains the
        # generator to fool the discriminator. Keras 3 optimizers belong to one
        # set of weights, so it gets its own Adam with the same settings.
        self.combined = Model([noise, label], valid, name="combined")
        self.combined.compile(loss="binary_crossentropy",
                              optimizer=keras.optimizers.Adam(0.0002, 0.5))

        # G and D compute in 16-bit where asked: weights, outputs, losses and
        # BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"arch": self.arch, "class_names": self.class_names, "img_shape": self.img_shape,
                "num_classes": self.num_classes, "latent_dim": self.latent_dim}

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
        label = Input(shape=(1,), dtype="int32")
        # Each digit scales the noise by its own learned vector: the label
        # picks which part of the noise space G draws from.
        label_embedding = layers.Flatten()(
            layers.Embedding(self.num_classes, self.latent_dim)(label))
        model_input = layers.Multiply()([noise, label_embedding])
        img = model(model_input)
        return Model([noise, label], img, name="generator")

    def build_discriminator(self):
        model = Sequential([
            Input(shape=(int(np.prod(self.img_shape)),)),
            layers.Dense(512),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(512),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.4),
            layers.Dense(512),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.4),
            layers.Dense(1, activation="sigmoid"),
        ], name="discriminator_stack")

        img = Input(shape=self.img_shape)
        label = Input(shape=(1,), dtype="int32")
        # One learned weight per pixel and digit: D sees the image through
        # the mask of the digit it is told the image shows.
        label_embedding = layers.Flatten()(
            layers.Embedding(self.num_classes, int(np.prod(self.img_shape)))(label))
        flat_img = layers.Flatten()(img)
        model_input = layers.Multiply()([flat_img, label_embedding])
        validity = model(model_input)
        return Model([img, label], validity, name="discriminator")

    def load_data(self):
        """MNIST with its labels, the default data set (see common/data.py for its sources)."""
        return data.load_mnist()

    def draw_batch(self, rng, batch_size):
        """A batch of real images with their labels, the noise, and the labels
        G is asked for in its step."""
        return data.labelled_batch(self.training_data(), rng, batch_size, self.latent_dim,
                                   self.num_classes)

    def train_step(self, imgs, labels, noise, sampled_labels):
        """One step: D on real and generated images, then G through `combined`.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        valid = ops.ones((ops.shape(imgs)[0], 1))
        fake = ops.zeros((ops.shape(imgs)[0], 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------
        # As in Keras-GAN, the generated batch is drawn for the real batch's
        # labels, so D sees the same digits real and generated.
        gen_imgs = generate(self.generator, [noise, labels])
        d_real = train_on_batch(self.discriminator, [imgs, labels], valid)
        d_fake = train_on_batch(self.discriminator, [gen_imgs, labels], fake)

        # ---------------------
        #  Train Generator
        # ---------------------
        # G wants D to take its images for real digits of the labels asked for.
        g = train_on_batch(self.combined, [noise, sampled_labels], valid)

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=32, sample_interval=1000, **options):
        """`GANModel.train` (common/model.py) with Keras-GAN's defaults for CGAN."""
        return super().train(epochs, batch_size, sample_interval, **options)

    def sample_images(self, step):
        """Save a grid with one column per class, labelled with its name, and
        one row per noise vector (the same inputs every time)."""
        gen_imgs = self.generator([self.sample_noise, self.sample_labels], training=False)
        return save_class_grid(ops.convert_to_numpy(gen_imgs), self.sample_labels,
                               self.class_names,
                               os.path.join(self.out_dir, "images", f"mnist_{step}.png"))



class ConditionalDCGAN(CGAN):
    """CGAN's recipe (losses, steps, labels) with convolutional networks, as in
    the conditional DCGAN tutorials: G grows a 7x7 map to the image with
    transposed convolutions, D reads the image with strided convolutions. The
    label reaches G as an embedding concatenated to the noise, and D as an
    extra image channel (an embedding of one value per pixel)."""

    arch = "conv"
    label_dim = 50  # size of the label embedding G reads beside the noise

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        model = Sequential([
            Input(shape=(self.latent_dim + self.label_dim,)),
            layers.Dense(128 * rows * cols),
            layers.Reshape((rows, cols, 128)),
            layers.BatchNormalization(momentum=0.8),
            layers.ReLU(),
            layers.Conv2DTranspose(128, kernel_size=4, strides=2, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.ReLU(),
            layers.Conv2DTranspose(64, kernel_size=4, strides=2, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.ReLU(),
            layers.Conv2D(self.channels, kernel_size=3, padding="same", activation="tanh"),
        ], name="generator_stack")

        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype="int32")
        label_embedding = layers.Flatten()(
            layers.Embedding(self.num_classes, self.label_dim)(label))
        img = model(layers.Concatenate()([noise, label_embedding]))
        return Model([noise, label], img, name="generator")

    def build_discriminator(self):
        model = Sequential([
            Input(shape=(self.img_rows, self.img_cols, self.channels + 1)),
            layers.Conv2D(64, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(128, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(1, activation="sigmoid"),
        ], name="discriminator_stack")

        img = Input(shape=self.img_shape)
        label = Input(shape=(1,), dtype="int32")
        label_plane = layers.Reshape((self.img_rows, self.img_cols, 1))(
            layers.Embedding(self.num_classes, self.img_rows * self.img_cols)(label))
        validity = model(layers.Concatenate()([img, label_plane]))
        return Model([img, label], validity, name="discriminator")


ARCHITECTURES = {"mlp": CGAN, "conv": ConditionalDCGAN}


@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    strategy = cli.set_up_devices(args)
    # The conditional DCGAN grows a quarter-size map twice: sides divisible by 4.
    dataset = data.load_training_data(args.dataset, args.data, args.img_size, args.channels,
                                      labelled=True, size_multiple=4 if args.arch == "conv" else 1)
    cli.warn_if_batch_exceeds(args.batch_size, len(dataset))
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = ARCHITECTURES[args.arch](img_shape=dataset.shape, latent_dim=args.latent_dim,
                                       class_names=dataset.class_names, dataset=dataset,
                                       out_dir=args.out, precision=args.precision,
                                       seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
