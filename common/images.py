"""Pictures of what a generator makes: image grids and curve plots."""
import functools

import numpy as np

from common.files import replaced_atomically


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


def save_image_grid(images, path, cols, scale=3, col_labels=None, title=None):
    """Save images in [-1, 1] as a grid PNG, each pixel `scale` x `scale`;
    returns `path`.

    `col_labels` (one per column, e.g. the digit each column asks for) and
    `title` go in a strip above the grid. The grid is written with imageio (a
    few milliseconds, so sampling costs little training time); the strip is
    drawn by matplotlib once per layout and reused.
    """
    import imageio.v3 as iio
    grid = tile_images(images, cols)
    big = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    if col_labels is not None or title:
        cell = (images.shape[2] + 1) * scale  # a tile and its border
        centers = tuple(scale + cell * k + cell / 2 for k in range(cols))
        labels = tuple(str(label) for label in col_labels) if col_labels is not None else ()
        strip = _label_strip(big.shape[1], centers, labels, title or "")
        if big.ndim == 2:
            strip = (strip @ np.array([0.299, 0.587, 0.114]) + 0.5).astype(np.uint8)
        big = np.concatenate([strip, big], axis=0)
    with replaced_atomically(path) as tmp:
        iio.imwrite(tmp, big, extension=".png")
    return path


@functools.lru_cache(maxsize=16)
def _label_strip(width, centers, labels, title):
    """A white RGB strip `width` pixels wide: `title` on top, then each label
    centred at its x in `centers`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    line = 20
    height = line * (bool(labels) + bool(title)) + 4
    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    if title:
        fig.text(0.5, 1 - (line / 2 + 2) / height, title, ha="center", va="center", fontsize=9)
    for x, label in zip(centers, labels):
        fig.text(x / width, (line / 2 + 2) / height, label, ha="center", va="center", fontsize=9)
    fig.canvas.draw()
    strip = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return strip


def shown_classes(num_classes, columns=10):
    """The classes a grid shows: all when there are at most `columns`, else
    `columns` of them spread evenly (first and last included)."""
    return np.unique(np.linspace(0, num_classes - 1, min(num_classes, columns)).round()
                     ).astype("int32")


def class_grid_inputs(rng, latent_dim, num_classes=10, rows=10, columns=10):
    """The fixed inputs of a conditional model's sample grid.

    Column k asks for the k-th class shown; each row has one noise vector,
    shared by its columns, so a row shows what the label alone changes. With
    more than `columns` classes, `columns` of them spread evenly are shown.

    Args:
        rng: numpy Generator the noise is drawn with.
        latent_dim: size of the noise vector.
        num_classes: how many classes the model knows.
        rows: rows of different noise.
        columns: the most classes a grid shows.

    Returns:
        noise: float32 (rows * shown, latent_dim), row-major like the grid.
        labels: int32 (rows * shown, 1), the classes shown in order on every row.
    """
    shown = shown_classes(num_classes, columns)
    noise = rng.normal(0, 1, (rows, latent_dim)).astype("float32")
    labels = np.tile(shown, rows).reshape(-1, 1)
    return np.repeat(noise, len(shown), axis=0), labels


def save_class_grid(images, labels, class_names, path):
    """Save a conditional model's grid (inputs from `class_grid_inputs`): one
    column per class shown, labelled with its name; returns `path`."""
    labels = np.asarray(labels).reshape(-1)
    cols = len(np.unique(labels))
    return save_image_grid(images, path, cols=cols,
                           col_labels=[class_names[k] for k in labels[:cols]])


def save_curves(curves, x, target, path, title=None):
    """Plot generated 1-D curves against the target curve (the "painting" picture)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for curve in curves:
        ax.plot(x, curve, color="tab:green", alpha=0.35, linewidth=1)
    ax.plot(x, target, color="black", linewidth=2, label="target: sin(pi x)")
    ax.plot([], [], color="tab:green", label="generated")
    ax.set_ylim(-1.2, 1.2)
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    try:
        with replaced_atomically(path) as tmp:
            fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)
    return path
