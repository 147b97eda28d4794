"""ACGAN: auxiliary classifier GAN (Odena, Olah & Shlens, 2016), Keras-GAN's recipe.

G is told which digit to draw: it multiplies its noise by a learned embedding
of the label, then upsamples with the convolutional stack of dcgan/. D is not
told the label; it has two heads on one convolutional trunk, real/fake
(sigmoid) and which digit (softmax over 10), trained with binary and sparse
categorical cross-entropy. Each training step trains D on a real batch (its
true labels) and on a generated batch (the labels G was asked for), then G
through the combined model (G followed by a frozen D): G wants its images
taken for real and classified as the digit asked for.

During training D's class accuracy on real and on generated images is shown
(Keras-GAN's "op_acc"); on generated images it says how often G draws the
digit it was asked for, as D reads it.

    python acgan/acgan.py               # MNIST digits
    python acgan/acgan.py --data DIR    # your own images, one subfolder per class
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """ACGAN's flags: the shared ones (common/cli.py) with Keras-GAN's defaults but
    4,000 steps, not 14,000: by then the digits are recognisable and of the class
    asked for (docs/results.md, "Default runs"), in minutes on a CPU."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0], epochs=4000, batch_size=32,
                                 sample_interval=200,
                                 datasets=["mnist", "fashion_mnist", "cifar10", "cifar100"])
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
from common.images import class_grid_inputs, save_class_grid
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch


class ACGAN(GANModel):
    # `--precision auto` keeps ACGAN in float32: over three seeds, bfloat16
    # drew the digit asked for as often on one seed and less often on the other
    # two, below float32's spread (docs/results.md, "Mixed precision");
    # --precision mixed_bfloat16 trains faster, for those who accept that.
    auto_float32_because = ("ACGAN drew the digit asked for less often in bfloat16 "
                            "(docs/results.md, \"Mixed precision\")")

    def __init__(self, img_shape=(28, 28, 1), num_classes=None, latent_dim=100, dataset=None,
                 out_dir=None, precision="float32", seed=None, class_names=None):
        """
        Args:
            img_shape: (rows, cols, channels); rows and cols divisible by 4.
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

        # D's two outputs and their losses, in the order build_discriminator returns them.
        losses = ["binary_crossentropy", "sparse_categorical_crossentropy"]

        # Build and compile the discriminator
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss=losses,
                                   optimizer=keras.optimizers.Adam(0.0002, 0.5),
                                   metrics=[[binary_accuracy],
                                            # the class head against integer labels
                                            [keras.metrics.SparseCategoricalAccuracy("accuracy")]])
        # Keras names each output's metrics "<output name>_<metric>"; the
        # step reads them by these names, whatever a subclass calls its heads.
        validity_name, label_name = self.discriminator.output_names
        self.validity_acc_name = f"{validity_name}_binary_accuracy"
        self.label_acc_name = f"{label_name}_accuracy"

        # Build the generator
        self.generator = self.build_generator()

        # The generator takes noise and the target label as input
        # and generates the corresponding digit of that label
        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype="int32")
        img = self.generator([noise, label])

        # For the combined model we will only train the generator: D is frozen
        # the Keras 2 way (see common/frozen.py), D itself stays trainable.
        # D determines the validity and the label of the generated image.
        valid, target_label = frozen(self.discriminator)(img)

        # The combined model (stacked generator and discriminator) trains the
        # generator to fool the discriminator. Keras 3 optimizers belong to one
        # set of weights, so it gets its own Adam with the same settings.
        self.combined = Model([noise, label], [valid, target_label], name="combined")
        self.combined.compile(loss=losses, optimizer=keras.optimizers.Adam(0.0002, 0.5))

        # G and D compute in 16-bit where asked: weights, outputs, losses and
        # BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"class_names": self.class_names, "img_shape": self.img_shape,
                "num_classes": self.num_classes, "latent_dim": self.latent_dim}

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        model = Sequential([
            Input(shape=(self.latent_dim,)),
            layers.Dense(128 * rows * cols, activation="relu"),
            layers.Reshape((rows, cols, 128)),
            # momentum 0.8: Keras-GAN's value; the moving statistics follow the
            # fast-changing generator closely.
            layers.BatchNormalization(momentum=0.8),
            layers.UpSampling2D(),
            layers.Conv2D(128, kernel_size=3, padding="same"),
            layers.Activation("relu"),
            layers.BatchNormalization(momentum=0.8),
            layers.UpSampling2D(),
            layers.Conv2D(64, kernel_size=3, padding="same"),
            layers.Activation("relu"),
            layers.BatchNormalization(momentum=0.8),
            layers.Conv2D(self.channels, kernel_size=3, padding="same"),
            layers.Activation("tanh"),
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
        """D's trunk and its two heads; returns a Model img -> [validity, label]."""
        model = Sequential([
            Input(shape=self.img_shape),
            layers.Conv2D(16, kernel_size=3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(32, kernel_size=3, strides=2, padding="same"),
            layers.ZeroPadding2D(padding=((0, 1), (0, 1))),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.BatchNormalization(momentum=0.8),
            layers.Conv2D(64, kernel_size=3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.BatchNormalization(momentum=0.8),
            layers.Conv2D(128, kernel_size=3, strides=1, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Flatten(),
        ], name="discriminator_trunk")

        img = Input(shape=self.img_shape)
        # Extract feature representation
        features = model(img)
        # Determine validity and label of the image
        validity = layers.Dense(1, activation="sigmoid", name="validity")(features)
        label = layers.Dense(self.num_classes, activation="softmax", name="label")(features)
        return Model(img, [validity, label], name="discriminator")

    def load_data(self):
        """MNIST with its labels, the default data set (see common/data.py for its sources)."""
        return data.load_mnist()

    def draw_batch(self, rng, batch_size):
        """A batch of real images with their labels, the noise, and the labels
        G is asked to draw."""
        return data.labelled_batch(self.training_data(), rng, batch_size, self.latent_dim,
                                   self.num_classes)

    def train_step(self, imgs, img_labels, noise, sampled_labels):
        """One step: D on real and generated images, then G through `combined`.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's loop.
        """
        valid = ops.ones((ops.shape(imgs)[0], 1))
        fake = ops.zeros((ops.shape(imgs)[0], 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------
        gen_imgs = generate(self.generator, [noise, sampled_labels])
        # Real images: real, and their true digit. Generated images: fake,
        # and the digit G was asked for (D learns to classify both).
        d_real = train_on_batch(self.discriminator, imgs, [valid, img_labels])
        d_fake = train_on_batch(self.discriminator, gen_imgs, [fake, sampled_labels])

        # ---------------------
        #  Train Generator
        # ---------------------
        # G wants its images taken for real, and for the digit it was asked for.
        g = train_on_batch(self.combined, [noise, sampled_labels], [valid, sampled_labels])

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real[self.validity_acc_name] + d_fake[self.validity_acc_name]),
                # Keras-GAN's op_acc: D's class accuracy, over real and generated images
                "op_acc": 0.5 * (d_real[self.label_acc_name] + d_fake[self.label_acc_name]),
                "op_acc_real": d_real[self.label_acc_name],
                "op_acc_fake": d_fake[self.label_acc_name],
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=32, sample_interval=200, **options):
        """`GANModel.train` (common/model.py) with Keras-GAN's defaults for ACGAN."""
        return super().train(epochs, batch_size, sample_interval, **options)

    def sample_images(self, step):
        """Save a grid with one column per class, labelled with its name, and
        one row per noise vector (the same inputs every time)."""
        gen_imgs = self.generator([self.sample_noise, self.sample_labels], training=False)
        return save_class_grid(ops.convert_to_numpy(gen_imgs), self.sample_labels,
                               self.class_names,
                               os.path.join(self.out_dir, "images", f"mnist_{step}.png"))



@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    strategy = cli.set_up_devices(args)
    # G grows a quarter-size map twice: sides divisible by 4.
    dataset = data.load_training_data(args.dataset, args.data, args.img_size, args.channels,
                                      labelled=True, size_multiple=4)
    cli.warn_if_batch_exceeds(args.batch_size, len(dataset))
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = ACGAN(img_shape=dataset.shape, latent_dim=args.latent_dim,
                    class_names=dataset.class_names, dataset=dataset, out_dir=args.out,
                    precision=args.precision, seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
