"""Where a run writes: the model's own folder or --out, one run per folder
(a finished or running run is refused unless --resume or --overwrite says
what to do with it), never inside the data folder, and nothing written
half (a grid of a step past the checkpoint is dropped on resume)."""
import csv
import inspect
import os
import re
import shutil
import sys

from common import checkpoints
from common.errors import UserError
from common.files import remove_stale_partials

def default_out_dir(obj):
    """The folder of the file that defines `obj`'s class (dcgan/ for DCGAN),
    whatever the working directory; the working directory when there is none.

    When the zoo is installed as a package (`pip install .`), that folder is
    in site-packages, or cannot be written: runs then go to a folder of the
    same name under the working directory (./dcgan), and the run says so."""
    try:
        folder = os.path.dirname(os.path.abspath(inspect.getfile(type(obj))))
    except (TypeError, OSError):
        return os.getcwd()
    installed = {"site-packages", "dist-packages"} & set(folder.split(os.sep))
    if installed or not os.access(folder, os.W_OK):
        fallback = os.path.join(os.getcwd(), os.path.basename(folder))
        print(f"Note: {folder} is {'an installed package' if installed else 'not writable'}; "
              f"outputs go to {fallback} (choose another with --out).", file=sys.stderr)
        return fallback
    return folder


# What a run writes into its --out folder (and all that --overwrite removes).
RUN_OUTPUTS = ("images", "saved_model", "checkpoints", "logs", "history.csv", "losses.png",
               "samples.gif")
_GRID = re.compile(r"^[a-z]+_(\d+)\.png$")  # a sample grid: mnist_1200.png


def earlier_run(out_dir):
    """Whether `out_dir` holds a run's checkpoint, history or sample grids, and
    the step that run reached: (True, step or None), or (False, None)."""
    meta = checkpoints.read_meta(out_dir)
    if meta is not None:
        return True, meta.get("step")
    history = os.path.join(out_dir, "history.csv")
    if os.path.isfile(history):
        try:
            with open(history, newline="") as handle:
                return True, int(list(csv.DictReader(handle))[-1]["step"]) + 1
        except (OSError, ValueError, IndexError, KeyError, TypeError):
            return True, None
    images = os.path.join(out_dir, "images")
    grids = [int(m.group(1)) for name in (os.listdir(images) if os.path.isdir(images) else [])
             if (m := _GRID.match(name))]
    if grids or os.path.isfile(checkpoints.checkpoint_path(out_dir)):
        return True, max(grids) if grids else None
    return False, None


def claim_out_dir(out_dir, resume=False, overwrite=False):
    """Make `out_dir` ready for a run: refuse to start a new run over an earlier
    one (UserError naming --resume and --overwrite), or with `overwrite`
    remove the earlier run's outputs (`RUN_OUTPUTS`, nothing else); then
    `prepare_out_dir`. So a folder only ever holds one run, and its
    samples.gif only that run's grids."""
    if resume and overwrite:
        raise UserError("--resume continues the run in --out and --overwrite starts it over: "
                        "choose one.")
    found, step = earlier_run(out_dir)
    resumable = os.path.isfile(checkpoints.checkpoint_path(out_dir))
    if resume and not resumable:
        # Never "start without --resume" when that start would be refused in turn.
        raise UserError(
            f"No checkpoint to resume from at {checkpoints.checkpoint_path(out_dir)}"
            + (": the run there cannot be continued; start it over with --overwrite, or "
               "choose another --out." if found else
               ": start a new run there without --resume, or point --out at the folder of "
               "the run to continue."))
    if found and not resume:
        if not overwrite:
            reached = f" (at step {step:,})" if step is not None else ""
            if not resumable:
                raise UserError(
                    f"{out_dir} holds the outputs of a run{reached} but no checkpoint to "
                    "continue it from: start over with --overwrite (removes its images/, "
                    "saved_model/, logs/, history.csv, losses.png and samples.gif), or choose "
                    "another --out.")
            raise UserError(
                f"{out_dir} already holds a run{reached}: continue it with --resume, start "
                "over with --overwrite (removes its images/, saved_model/, checkpoints/, "
                "logs/, history.csv, losses.png and samples.gif), or choose another --out.")
        for name in RUN_OUTPUTS:
            path = os.path.join(out_dir, name)
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.exists(path):
                    os.remove(path)
            except OSError as error:
                raise UserError(f"--overwrite could not remove {path} ({error.strerror}).") from None
    prepare_out_dir(out_dir)
    remove_stale_partials(out_dir, *(os.path.join(out_dir, d) for d in RUN_OUTPUTS[:3]))
    return out_dir


def data_folder(dataset):
    """The folder a data set reads its images from, or None (arrays, MNIST):
    its `folder`, else the folder all its files share."""
    folder = getattr(dataset, "folder", None)
    if isinstance(folder, str):
        return folder
    paths = [path for name in ("paths", "train", "test")
             for path in (getattr(dataset, name, None) or []) if isinstance(path, str)]
    try:
        return os.path.commonpath([os.path.abspath(os.path.dirname(p)) for p in paths]) if paths else None
    except ValueError:  # files on different drives
        return None


def check_apart(data_dir, out_dir):
    """Refuse an --out inside the --data folder, or the reverse: the run would
    train on its own sample grids (or add its output folder as a class), or
    --overwrite would remove the data."""
    if not data_dir:
        return
    data_real, out_real = os.path.realpath(data_dir), os.path.realpath(out_dir)
    inside = os.path.commonpath([data_real, out_real])
    if inside == data_real:
        raise UserError(f"--out {out_dir} is inside the --data folder {data_dir}: the run would "
                        "train on its own sample grids; choose an --out outside it.")
    if inside == out_real:
        raise UserError(f"--data {data_dir} is inside the --out folder {out_dir}: a run's "
                        "outputs there could replace the images it trains on; choose an --out "
                        "that does not hold the data.")


def drop_grids_after(out_dir, step):
    """Remove the sample grids of steps at or after `step`: a resumed run
    trains them again (the interrupted run saved them, not their checkpoint)."""
    images = os.path.join(out_dir, "images")
    for name in os.listdir(images) if os.path.isdir(images) else []:
        match = _GRID.match(name)
        if match and int(match.group(1)) >= step:
            os.remove(os.path.join(images, name))


def prepare_out_dir(out_dir):
    """Create `out_dir`/images and `out_dir`/saved_model, and prove they can be
    written, before any training time is spent."""
    try:
        for sub in ("images", "saved_model"):
            os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
        probe = os.path.join(out_dir, ".write-test")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as error:
        raise UserError(f"Output folder {out_dir} cannot be written ({error.strerror}): "
                        "choose another with --out.") from None
    return out_dir
