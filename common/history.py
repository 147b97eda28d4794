"""A run's record: history.csv, the loss-curve PNG, the GIF of sample grids
and (optionally) TensorBoard event files."""
import contextlib
import csv
import os
import re

import numpy as np

from common.files import replaced_atomically


class History:
    """Per-step logs of a run, written to `<out>/history.csv`.

    Rows are kept in memory and flushed at every sample interval. On resume
    the rows of steps after the checkpoint (trained, then lost with the
    interrupted run) are dropped, so the file always matches the weights.
    """

    def __init__(self, out_dir, resume_step=None, tensorboard=False):
        self.path = os.path.join(out_dir, "history.csv")
        self.plot_path = os.path.join(out_dir, "losses.png")
        self.rows = []
        self.columns = ["step"]
        self._written = 0
        if resume_step is not None and os.path.isfile(self.path):
            with open(self.path, newline="") as handle:
                for row in csv.DictReader(handle):
                    if int(row["step"]) < resume_step:
                        self.rows.append({k: float(v) for k, v in row.items() if v != ""})
                        self._add_columns(row)
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

    def record(self, step, logs):
        """Add `logs` (name -> float) for `step`; several calls for one step merge."""
        if self.rows and int(self.rows[-1]["step"]) == step:
            self.rows[-1].update(logs)
        else:
            self.rows.append({"step": step, **logs})
        self._add_columns(logs)
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
        """Write new rows to history.csv (all rows when columns changed)."""
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
