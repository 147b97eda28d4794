"""Writing a file so that its final name never holds half of it.

Every file a run writes (sample grids, models, the checkpoint, the loss plot,
the GIF) is written under a temporary name beside the final one, then renamed
over it: a run stopped at any moment leaves the previous file or the new one.
The temporary name holds `.partial-<pid>` (`generator.partial-4242.keras` for
writers that insist on an extension), so it never looks like a finished file, and it is removed when the writing fails (an error, a second Ctrl-C);
only a killed process can leave one, and the next run in the folder removes it.
"""
import contextlib
import os
import re

_PARTIAL = re.compile(r"\.partial-(\d+)(\.\w+)?$")


@contextlib.contextmanager
def replaced_atomically(path, keep_extension=False):
    """Yields the temporary path to write instead of `path`; when the block
    ends without an error it is renamed to `path`, otherwise removed.
    `keep_extension` ends the temporary name with `path`'s extension too
    (Keras saves only to names ending in .keras).

        with replaced_atomically("images/mnist_100.png") as tmp:
            imageio.imwrite(tmp, pixels, extension=".png")
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    root, extension = os.path.splitext(path) if keep_extension else (path, "")
    tmp = f"{root}.partial-{os.getpid()}{extension}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:  # after an error or KeyboardInterrupt; a no-op once renamed
        with contextlib.suppress(OSError):
            os.remove(tmp)


def cache_folder():
    """Where the zoo keeps what a machine remembers between runs (TensorFlow's
    XLA choices, JAX's compiled steps, the decoded offline MNIST digits):
    $KERAS_GAN_ZOO_CACHE, else keras_gan_zoo/ in the user's Keras folder
    ($KERAS_HOME, else ~/.keras). Everything there can be deleted: it is made again."""
    return os.environ.get("KERAS_GAN_ZOO_CACHE") or os.path.join(
        os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "keras_gan_zoo")


def remove_stale_partials(*folders):
    """Remove the `.partial-<pid>` files that killed processes left in `folders`
    (those of a process still running are left alone)."""
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            match = _PARTIAL.search(name)
            if match and not _running(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(folder, name))


def _running(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True
