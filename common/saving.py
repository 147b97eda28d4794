"""Saving a model: in float32, whatever precision it trained in, and so that
no run stopped half-way leaves a broken file."""
import contextlib

from common import backends, private
from common.files import replaced_atomically


def save_model_atomically(model, path):
    """Write `model` to `path` (.keras) through a temporary file
    (`generator.partial-<pid>.keras`, removed if saving fails), so a run
    stopped mid-save never leaves a broken file under the final name."""
    with (replaced_atomically(path, keep_extension=True) as tmp, saved_in_float32(model),
          backends.tensorflow_left_unloaded()):  # seconds off TensorFlow (common/backends/)
        model.save(tmp)  # in float32: it loads and generates so on any machine
    return path


@contextlib.contextmanager
def saved_in_float32(model):
    """While saving `model`: its layers' policies read float32, so the file
    loads and generates in float32 on any machine (the weights are float32
    in every precision); the policies are restored afterwards."""
    layers = private.all_layers(model, include_self=True)
    policies = [layer.dtype_policy for layer in layers]
    try:
        for layer in layers:
            layer.dtype_policy = "float32"
        yield model
    finally:
        for layer, policy in zip(layers, policies):
            layer.dtype_policy = policy
