"""GPU set-up shared by every model script.

TensorFlow grabs all memory of every visible GPU by default, which makes two
runs on one card (or a notebook beside a run) fail. `configure_gpus` turns on
memory growth instead, optionally caps the memory and restricts the devices.
On a CPU-only machine it does nothing and says so once.
"""
import tensorflow as tf

from common.errors import UserError


def configure_gpus(memory_limit_mb=None, devices=None, verbose=True):
    """Configure the visible GPUs; call before any model is built.

    Args:
        memory_limit_mb: optional cap in MB per GPU (a logical device of that
            size); None lets memory grow as needed.
        devices: optional list of GPU indices to use (e.g. [0, 2]); None
            keeps all visible GPUs.
        verbose: print one line saying what was configured.

    Returns:
        The list of GPUs left visible (empty on a CPU-only machine).
    """
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        if verbose:
            print("GPU: none visible, training on the CPU.")
        return []
    if devices is not None:
        unknown = [i for i in devices if i < 0 or i >= len(gpus)]
        if unknown:
            raise UserError(
                f"GPU index {unknown[0]} does not exist: this machine has "
                f"{len(gpus)} GPU(s), numbered 0 to {len(gpus) - 1}.")
        gpus = [gpus[i] for i in devices]
    try:
        tf.config.set_visible_devices(gpus, "GPU")
        for gpu in gpus:
            if memory_limit_mb:
                tf.config.set_logical_device_configuration(
                    gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=memory_limit_mb)])
            else:
                tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
        # TensorFlow refuses once a GPU is initialised (a model was already
        # built in this process); the existing set-up stays in force.
        if verbose:
            print("GPU: already initialised in this process, keeping its configuration.")
        return gpus
    if verbose:
        how = f"capped at {memory_limit_mb} MB" if memory_limit_mb else "memory growth on"
        print(f"GPU: using {len(gpus)} device(s), {how}.")
    return gpus
