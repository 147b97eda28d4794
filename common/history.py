"""A run's record: history.csv, the loss-curve PNG, the GIF of sample grids
and (optionally) TensorBoard event files."""
import contextlib
import csv
import math
import os
import re
import time

import numpy as np

from common.errors import UserError
from common.files import replaced_atomically

# How often (seconds) the logs recorded since the last read-back are read to
# the host and checked: within the progress line's shortest interval, so a
# diverged run stops before its next progress line.
READ_BACK_SECONDS = 0.5


class History:
    """Per-step logs of a run, written to `<out>/history.csv`.

    Rows are kept in memory and flushed at every sample interval. On resume
    the rows of steps after the checkpoint (trained, then lost with the
    interrupted run) are dropped, so the file always matches the weights.

    A step's logs are recorded as the compiled step returns them (tensors on
    the device), not read back to the host at every step, which would make
    each step wait for the previous one on JAX and on GPUs: `read_back`
    turns them into floats every READ_BACK_SECONDS and before anything is
    written, and stops a run whose loss is not finite, naming the step.
    """

    def __init__(self, out_dir, resume_step=None, tensorboard=False):
        self.path = os.path.join(out_dir, "history.csv")
        self.plot_path = os.path.join(out_dir, "losses.png")
        self.out_dir = out_dir
        self.rows = []
        self.columns = ["step"]
        self._written = 0
        self._unread = 0  # rows from here on may hold device values
        self._loss_names = set()  # what the steps return (not evaluations)
        self._last_read = time.monotonic()
        if resume_step is not None and os.path.isfile(self.path):
            with open(self.path, newline="") as handle:
                for row in csv.DictReader(handle):
                    if int(row["step"]) < resume_step:
                        self.rows.append({k: float(v) for k, v in row.items() if v != ""})
                        self._add_columns(row)
        self._unread = len(self.rows)  # floats already, and in TensorBoard since their run
        self._rewrite = True
        self.writer = None
        if tensorboard:
            import tensorflow as tf
            self.writer = tf.summary.create_file_writer(os.path.join(out_dir, "logs"))

    def _add_columns(self, row):
        for name in row:
            if name not in self.columns:
                self.columns.append(name)
                self._rewrite = True

    def record(self, step, logs, read_back=False):
        """Add `logs` (name -> float or scalar tensor) for `step`; several
        calls for one step merge. The logs are read back (`read_back`) when
        asked, or when READ_BACK_SECONDS have passed since the last time."""
        if self.rows and int(self.rows[-1]["step"]) == step:  # more of a step (its evaluation)
            if len(self.rows) - 1 < self._unread:  # that step was read back: these are read now
                logs = {name: float(value) for name, value in logs.items()}
                self._to_tensorboard(step, logs)
            self.rows[-1].update(logs)
        else:  # a step's losses: the values a run stops on when they are not finite
            self.rows.append({"step": step, **logs})
            self._loss_names.update(logs)
        self._add_columns(logs)
        if read_back or time.monotonic() - self._last_read >= READ_BACK_SECONDS:
            self.read_back()

    def read_back(self):
        """Turn the logs recorded since the last call into floats (one wait for
        the device) and send them to TensorBoard. A loss that is not finite
        ends the run: its row and those after it are dropped (the history
        keeps the good steps) and a UserError names the step."""
        self._last_read = time.monotonic()
        for k in range(self._unread, len(self.rows)):
            row = {name: (value if name == "step" else float(value))
                   for name, value in self.rows[k].items()}
            if not all(math.isfinite(row[name]) for name in self._loss_names if name in row):
                del self.rows[k:]
                self._unread = len(self.rows)
                self._written = min(self._written, len(self.rows))
                from common.checkpoints import checkpoint_path
                logs = {name: value for name, value in row.items() if name != "step"}
                raise UserError(
                    f"Training diverged at step {row['step']}: a loss is not finite ({logs}); "
                    f"the last good checkpoint is kept in "
                    f"{os.path.dirname(checkpoint_path(self.out_dir))}.")
            self.rows[k] = row
            self._to_tensorboard(row["step"], {name: value for name, value in row.items()
                                               if name != "step"})
        self._unread = len(self.rows)

    def _to_tensorboard(self, step, logs):
        if self.writer is not None:
            import tensorflow as tf
            with self.writer.as_default(step=step):
                for name, value in logs.items():
                    tf.summary.scalar(name, value)

    def image(self, step, png_path, name="samples"):
        """Send a sample grid PNG to TensorBoard (when it is on)."""
        if self.writer is None:
            return
        import imageio.v3 as iio
        import tensorflow as tf
        pixels = iio.imread(png_path)
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        with self.writer.as_default(step=step):
            tf.summary.image(name, pixels[None, ..., :3], max_outputs=1)

    def flush(self):
        """Write new rows to history.csv (all rows when columns changed), read
        back first; a diverged run's good rows are written before it stops."""
        try:
            self.read_back()
        finally:
            self._write_rows()

    def _write_rows(self):
        rows = self.rows if self._rewrite else self.rows[self._written:]
        # A new header rewrites the whole file (through a temporary one, so a
        # stopped run never leaves half of it); new rows are appended.
        with (replaced_atomically(self.path) if self._rewrite
              else contextlib.nullcontext(self.path)) as path:
            with open(path, "w" if self._rewrite else "a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=self.columns)
                if self._rewrite:
                    writer.writeheader()
                writer.writerows({k: (int(v) if k == "step" else f"{v:.6g}")
                                  for k, v in row.items()} for row in rows)
        self._written = len(self.rows)
        self._rewrite = False
        if self.writer is not None:
            self.writer.flush()

    def plot(self, names=("d_loss", "g_loss", "d_acc"), max_points=1500):
        """Refresh `<out>/losses.png`: each curve raw (faint) and smoothed.

        It is redrawn at every sample interval, so it stays cheap whatever the
        run's length: at most `max_points` points a curve (the raw curve
        thinned, the smoothed one a running mean over the whole history)."""
        self.read_back()
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for name in names:
            points = [(r["step"], r[name]) for r in self.rows if name in r]
            if not points:
                continue
            steps, values = map(np.asarray, zip(*points))
            every = max(1, len(values) // max_points)
            line, = ax.plot(steps[::every], values[::every], alpha=0.2, linewidth=0.8)
            window = max(1, len(values) // 50)
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            ax.plot(steps[window - 1::every], smooth[::every], color=line.get_color(), label=name)
        ax.set_xlabel("step")
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(alpha=0.3)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.97)
        try:
            with replaced_atomically(self.plot_path) as tmp:
                fig.savefig(tmp, dpi=90, format="png")
        finally:
            plt.close(fig)

    def close(self):
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def sample_frames(last_sample_path):
    """The run's sample grids, in step order: files named like the last one
    (`mnist_<step>.png`) in the same folder."""
    folder, name = os.path.split(last_sample_path)
    prefix = re.sub(r"\d+\.png$", "", name)
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.png$")
    found = [(int(m.group(1)), n) for n in os.listdir(folder) if (m := pattern.match(n))]
    return [os.path.join(folder, n) for _, n in sorted(found)]


def write_gif(frame_paths, gif_path, max_frames=100, seconds_per_frame=0.15):
    """An animated GIF of the sample grids (at most `max_frames`, evenly
    spaced, always ending on the last) as the TensorFlow DCGAN tutorial makes."""
    import imageio.v3 as iio
    if not frame_paths:
        return None
    keep = np.unique(np.linspace(0, len(frame_paths) - 1, min(max_frames, len(frame_paths)))
                     .round().astype(int))
    frames = [iio.imread(frame_paths[i]) for i in keep]
    shape = frames[-1].shape
    frames = [f for f in frames if f.shape == shape]  # a grid of another size cannot be a frame
    with replaced_atomically(gif_path) as tmp:
        iio.imwrite(tmp, np.stack(frames), duration=int(seconds_per_frame * 1000), loop=0,
                    extension=".gif")
    return gif_path
