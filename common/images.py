"""Pictures of what a generator makes: image grids and curve plots."""
import os

import numpy as np


def tile_images(images, cols, border=1):
    """(N, H, W, C) images in [-1, 1] to one uint8 grid image, `cols` per row."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w, c = images.shape
    rows = -(-n // cols)
    grid = np.zeros((rows * (h + border) + border, cols * (w + border) + border, c), np.float32)
    pixels = np.clip((images + 1.0) * 0.5, 0.0, 1.0)
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = border + r * (h + border), border + k * (w + border)
        grid[top:top + h, left:left + w] = pixels[i]
    grid = (grid * 255.0 + 0.5).astype(np.uint8)
    return grid[..., 0] if c == 1 else grid


def _atomic_path(path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    root, ext = os.path.splitext(path)
    return f"{root}.tmp{ext}"


def save_image_grid(images, path, cols, scale=3, col_labels=None, title=None):
    """Save images in [-1, 1] as a grid PNG; returns `path`.

    Without labels the grid is written directly with imageio (a few
    milliseconds, so sampling costs little training time); with `col_labels`
    (one per column, e.g. the digit each column asks for) or a `title` it is
    drawn with matplotlib.
    """
    grid = tile_images(images, cols)
    tmp = _atomic_path(path)
    if col_labels is None and title is None:
        import imageio.v3 as iio
        big = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
        iio.imwrite(tmp, big, extension=".png")
    else:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        h = images.shape[1] + 1
        w = images.shape[2] + 1
        fig, ax = plt.subplots(figsize=(grid.shape[1] / h * 0.9, grid.shape[0] / h * 0.9 + 0.6))
        ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255)
        ax.set_xticks([1 + w * k + w / 2 - 1 for k in range(cols)])
        ax.set_xticklabels([str(label) for label in col_labels] if col_labels is not None else [])
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if title:
            ax.set_title(title, fontsize=9, pad=16)
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
        plt.close(fig)
    os.replace(tmp, path)
    return path


def class_grid_inputs(rng, latent_dim, num_classes=10, rows=10):
    """The fixed inputs of a conditional model's sample grid.

    Column k asks for class k; each row has one noise vector, shared by its
    columns, so a row shows what the label alone changes.

    Args:
        rng: numpy Generator the noise is drawn with.
        latent_dim: size of the noise vector.
        num_classes: columns (one per class, in order 0 .. num_classes - 1).
        rows: rows of different noise.

    Returns:
        noise: float32 (rows * num_classes, latent_dim), row-major like the grid.
        labels: int32 (rows * num_classes, 1).
    """
    noise = rng.normal(0, 1, (rows, latent_dim)).astype("float32")
    labels = np.tile(np.arange(num_classes, dtype="int32"), rows).reshape(-1, 1)
    return np.repeat(noise, num_classes, axis=0), labels


def save_curves(curves, x, target, path, title=None):
    """Plot generated 1-D curves against the target curve (the "painting" picture)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    tmp = _atomic_path(path)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for curve in curves:
        ax.plot(x, curve, color="tab:green", alpha=0.35, linewidth=1)
    ax.plot(x, target, color="black", linewidth=2, label="target: sin(pi x)")
    ax.plot([], [], color="tab:green", label="generated")
    ax.set_ylim(-1.2, 1.2)
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    plt.close(fig)
    os.replace(tmp, path)
    return path
