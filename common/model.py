"""The contract between a model of the zoo and `common/`: `GANModel`.

A model class subclasses `GANModel` and declares, besides Keras-GAN's surface
(`build_generator`, `build_discriminator` or `build_critic`, `combined`,
`train`, `sample_images` / `save_imgs`):

    networks()          every network whose state the run carries, by name:
                        a network compiled with an optimizer is trained by it
                        (D by `discriminator.train_on_batch`, G through
                        `combined`); any number of them
    fixed_networks()    networks the step reads but never trains (SRGAN's VGG19)
    precision_networks()  the networks whose layers compute in 16-bit
    saved_networks(final) what goes to saved_model/<name>.keras
    config()            the settings that make the model (--resume checks them)
    draw_batch(rng, batch_size)  the arrays one step takes, drawn with `rng`
    train_step(*batch)  one step, written with `common.step.train_on_batch`
    sample_images(step) the grid written every sample interval

and holds `out_dir`, `rng` (a NumPy Generator: resume replays its state) and,
when it has them, the arrays its grids are drawn from (`sample_arrays`).

`common/` reads those and nothing else: the compiled step on each backend,
checkpoints and exact resume, precision, several devices, saving,
recompilation and the XLA choice walk `networks()` (and `fixed_networks()`).
What `common/` keeps about an object's runs (its compiled step, the run it
trained, timings) lives in `common.run_state.run_state(model)`, beside the
object, never as an attribute on it; the only attributes it sets are the ones declared below
(`jit_compile`, `precision`, `requested_precision`).
"""
import numpy as np

from common.out_dir import default_out_dir
from common.run_state import run_state
from common.step import set_random_seed
from common.training import fit


class GANModel:
    """Base class of the zoo's models: see the module's docstring."""

    # Set by common/: how the step is compiled (None chooses; kept in checkpoints)
    # and what G and D compute in (common/precision.py).
    jit_compile = None
    precision = requested_precision = "float32"
    # The model's own arrays a checkpoint keeps: the fixed inputs of its grids.
    sample_arrays = ("sample_noise", "sample_labels")
    # Whether the next batch may be drawn while a step runs (common/prefetch.py):
    # True when draw_batch reads only `rng` and the data, not what a step changes.
    draw_ahead = True

    def __init__(self, out_dir=None, seed=None):
        """`out_dir`: where images/, saved_model/ and checkpoints/ go (default:
        the folder of the model's file). `seed`: Python's, NumPy's and Keras'
        random generators (weights, dropout) and `rng` (data order, noise);
        None is random."""
        self.out_dir = out_dir or default_out_dir(self)
        if seed is not None:
            set_random_seed(seed)
        self.rng = np.random.default_rng(seed)

    def training_data(self):
        """`dataset`, which the model's `load_data()` loads on first use when
        none was given (its default data set)."""
        if self.dataset is None:
            self.dataset = self.load_data()
        return self.dataset

    # ------------------------------------------------------------------
    #  What the model declares
    # ------------------------------------------------------------------
    def networks(self):
        """{name: keras.Model}: every network whose weights and optimizer state
        the run carries, in a fixed order (checkpoints keep that order). A
        model with more (WGAN-GP's critic model, SRGAN's SRResNet) adds them
        to these three."""
        return {"generator": self.generator, "discriminator": self.discriminator,
                "combined": self.combined}

    def fixed_networks(self):
        """{name: keras.Model}: networks the step reads but never trains (a
        loss's feature extractor); not in checkpoints."""
        return {}

    def precision_networks(self):
        """The networks whose layers compute in 16-bit when asked
        (common/precision.py); the models built from them follow."""
        return [self.generator, self.discriminator]

    def saved_networks(self, final):
        """{name: network} written to saved_model/<name>.keras every sample
        interval, and at the end of a run (`final`) also the others."""
        saved = {"generator": self.generator}
        if final:
            saved["discriminator"] = self.discriminator
        return saved

    def config(self):
        """The settings that make this model, which --resume checks (common/checkpoints.py)."""
        return {}

    def codes(self):
        """How G's one input is laid out when it holds codes besides noise
        (InfoGAN's {"noise": 62, "categorical": 10, "continuous": 2}); None:
        noise only. The metrics draw G's inputs by it."""
        return None

    def draw_batch(self, rng, batch_size):
        raise NotImplementedError(f"{type(self).__name__} must define draw_batch(rng, batch_size)")

    def train_step(self, *batch):
        raise NotImplementedError(f"{type(self).__name__} must define train_step(*batch)")

    def sample_images(self, step):
        raise NotImplementedError(f"{type(self).__name__} must define sample_images(step)")

    def measure(self, verbose=False):
        """Scores on held-out data, which train() adds to history.csv at every
        sample interval (printed unless quiet): a dict, or None for a model
        without them (the default; SRGAN, Pix2Pix and CycleGAN define it)."""
        return None

    def measurement(self, compute):
        """`compute()` once per training step: train() records the scores
        (`measure`), then `sample_images` draws the same measurement."""
        from keras import ops
        state = run_state(self)
        step = int(ops.convert_to_numpy(self.combined.optimizer.iterations))
        if state.measured is None or state.measured[0] != step:
            state.measured = (step, compute())
        return state.measured[1]

    def save_imgs(self, step):
        """Keras-GAN's first models' name for `sample_images`."""
        return self.sample_images(step)

    # ------------------------------------------------------------------
    #  What every model does the same way
    # ------------------------------------------------------------------
    def train(self, epochs, batch_size=32, sample_interval=50, **options):
        """Train for `epochs` steps: as in Keras-GAN one "epoch" is one batch.
        Called again on this object it trains `epochs` more steps of the same
        run, as Keras' `fit` does; with `resume=True` (another object or
        process) `epochs` is the total the run should reach.

        Every `sample_interval` steps (and at the end) a sample grid goes to
        `<out>/images/`, the models to `<out>/saved_model/` and a checkpoint
        to `<out>/checkpoints/`. `options` (quiet, resume, tensorboard, ...)
        are those of `common.training.fit`. A model that `measure`s held-out
        data has its scores recorded at every sample interval too (unless
        `evaluate` or `eval_interval` say otherwise)."""
        if type(self).measure is not GANModel.measure:
            verbose = not options.get("quiet", False)
            options.setdefault("evaluate", lambda gan: gan.measure(verbose=verbose))
            if not options.get("eval_interval"):
                options["eval_interval"] = sample_interval
        return fit(self, epochs, batch_size, sample_interval, **options)
