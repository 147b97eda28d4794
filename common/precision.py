"""Mixed precision: G and D compute in 16-bit, their weights stay float32.

    --precision auto             the default: mixed_bfloat16 where the machine
                                 has bfloat16 instructions (on a CPU, for the
                                 convolutional models; not for a model whose
                                 samples were worse in it: ACGAN), else float32
    --precision float32          everything in float32 (Keras-GAN's way)
    --precision mixed_bfloat16   convolutions and matrix products in bfloat16
    --precision mixed_float16    in float16, with loss scaling (GPUs)

`use_precision(gan, precision)` gives every layer of the generator and the
discriminator Keras' mixed policy (`keras.mixed_precision`): weights stay
float32 variables and are cast to 16-bit as a layer computes. What stays
float32, as in a float32 run:
  - each network's outputs: the layer that makes an output (the tanh image,
    the sigmoid and softmax heads) computes in float32, and so do the
    shape-only layers after it (Reshape), so that D's scores saturate and
    the losses read them as in float32;
  - the losses: Keras computes them in float32;
  - BatchNormalization's batch and moving statistics: Keras' BatchNormalization
    normalises in float32 and keeps its statistics as float32 variables;
  - the frozen discriminator (common/frozen.py): it runs D's layers with
    their own policies, and still writes none of D's weights or statistics.
On a CPU, only the layers with matrix products (Dense, convolutions,
embeddings) and those that merely move values compute in 16-bit: the
elementwise layers (`_ELEMENTWISE`: BatchNormalization, the activations,
Dropout, Add ...) stay float32, because the CPU's 16-bit arithmetic is in its
matrix units, and TensorFlow's elementwise kernels run slower in bfloat16
than in float32, so a step gains most with them in float32 (measured layer by
layer and step by step in docs/results.md, "Mixed precision"). On a GPU every layer computes in 16-bit (Keras' own mixed
precision), where 16-bit halves the memory traffic of elementwise layers too.
Other networks a GAN trains through (SRGAN's VGG19 content loss) get the same
policies: `use_precision(gan, precision, also=[...])`.
With `mixed_float16` every optimizer is wrapped in Keras' LossScaleOptimizer
(float16's small range would round small gradients to zero), as
`Model.compile` does for a model whose policy is mixed_float16.

A precision the machine has no instructions for (bfloat16 on a CPU without
AVX512_BF16 or AMX, on a GPU before compute capability 8.0; float16 on a CPU
without AVX512_FP16 or AMX-FP16, on a GPU before 7.0) would run emulated,
slower than float32: the run says so in one sentence and trains in float32.

The policy is the layers' own (`layer.dtype_policy`), set after the networks
are built, so the model files build their layers as in float32 and this
module alone knows about precision. Saved generators are written with the
float32 policy (common/saving.py): they load and generate in float32 on any
machine. Everything here is Keras, whatever the backend.
"""
import functools
import platform
import sys

import keras

from common import private
from common.cli import PRECISIONS  # noqa: F401  (the names --precision accepts)
from common.errors import UserError
from common.run_state import trained_networks

_HALF = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}

_CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                 keras.layers.Conv3D)

# Layers that compute value by value: float32 on a CPU (see the module's docstring).
_ELEMENTWISE = (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                keras.layers.GroupNormalization, keras.layers.Activation, keras.layers.ReLU,
                keras.layers.LeakyReLU, keras.layers.PReLU, keras.layers.ELU,
                keras.layers.Softmax, keras.layers.Dropout, keras.layers.Add,
                keras.layers.Subtract, keras.layers.Multiply, keras.layers.Average,
                keras.layers.Maximum, keras.layers.Minimum)

# Layers that only move values around: after an output layer they stay
# float32 with it, so that the network's output is the float32 result.
_SHAPE_ONLY = (keras.layers.Reshape, keras.layers.Flatten, keras.layers.Permute,
               keras.layers.Cropping2D, keras.layers.ZeroPadding2D)


# ---------------------------------------------------------------------------
# What the machine has
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _cpuinfo(*keys):
    """The value of the first line of /proc/cpuinfo (Linux) that starts with
    one of `keys`, or None where there is none or it cannot be read."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith(keys):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags():
    """The instruction-set flags of this CPU (Linux: /proc/cpuinfo), or an
    empty set where they cannot be read."""
    return frozenset((_cpuinfo("flags", "Features") or "").split())


def cpu_name():
    """This CPU's model name ("AMD EPYC ..."), for timings and benchmarks."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


@functools.lru_cache(maxsize=None)
def gpu_compute_capabilities():
    """(major, minor) of each GPU the Keras backend sees; empty without one."""
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf
            return tuple(tf.config.experimental.get_device_details(gpu).get(
                "compute_capability", (0, 0)) for gpu in tf.config.list_physical_devices("GPU"))
        if backend == "jax":
            import jax
            return tuple(tuple(int(part) for part in str(device.compute_capability).split("."))
                         for device in jax.devices() if device.platform == "gpu")
        if backend == "torch":
            import torch
            return tuple(torch.cuda.get_device_capability(i)
                         for i in range(torch.cuda.device_count()))
    except Exception:  # a driver that cannot answer: no GPU to rely on
        return ()
    return ()


def hardware_support(precision):
    """Whether this machine computes `precision` natively: (True, what has
    it) or (False, what lacks it), in words."""
    if precision not in _HALF:
        return True, "float32 runs everywhere"
    half = _HALF[precision]
    gpus = gpu_compute_capabilities()
    if gpus:
        needed = (8, 0) if half == "bfloat16" else (7, 0)
        if all(tuple(capability) >= needed for capability in gpus):
            return True, f"the GPU computes in {half} (compute capability " \
                         f"{'.'.join(str(part) for part in min(gpus))})"
        return False, f"this GPU (compute capability " \
                      f"{'.'.join(str(part) for part in min(gpus))}) has no {half} arithmetic " \
                      f"before {needed[0]}.{needed[1]}"
    flags = cpu_flags()
    wanted = ("avx512_bf16", "amx_bf16") if half == "bfloat16" else ("avx512_fp16", "amx_fp16")
    found = [flag.upper() for flag in wanted if flag in flags]
    if found:
        return True, f"this CPU has {' and '.join(found)}"
    return False, f"this CPU has no {half} instructions ({' or '.join(f.upper() for f in wanted)})"


def choose(precision="auto", say=print, convolutional=True, float32_because=None):
    """The precision to train in, and what `say` is told about it (one
    sentence, unless `precision` is named and the machine computes it).

    `precision` itself where the machine computes it, else float32. "auto":
    mixed_bfloat16 where the machine computes bfloat16, except, on a CPU, for
    networks without convolutions (not `convolutional`): the convolutional
    models' steps run markedly faster in bfloat16 there, while the MLPs' small
    matrix products (compiled with XLA) gave no steady gain
    (docs/results.md, "Mixed precision").
    And except for a model whose samples were measured worse in bfloat16:
    `float32_because` says how (a model class's `auto_float32_because`)."""
    if precision not in PRECISIONS:
        raise UserError(f"Unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        supported, why = hardware_support("mixed_bfloat16")
        chosen = "mixed_bfloat16" if supported else "float32"
        if supported and not convolutional and not gpu_compute_capabilities():
            chosen, why = "float32", f"{why}, but networks without convolutions gain " \
                                     "nothing steady from it on a CPU"
        elif supported and float32_because:
            chosen, why = "float32", f"{why}, but {float32_because}"
        say(f"Precision: {chosen} ({why}; choose with --precision).")
        return chosen
    supported, why = hardware_support(precision)
    if not supported:
        say(f"Note: --precision {precision} would run emulated here, slower than float32: "
            f"{why}; training in float32.", file=sys.stderr)
        return "float32"
    return precision


# ---------------------------------------------------------------------------
# Giving the networks their policy
# ---------------------------------------------------------------------------

def _layer_of(tensor):
    return private.layer_of(tensor)


def output_layers(model):
    """The layers that make `model`'s outputs, inside nested models too, and
    the shape-only layers (`_SHAPE_ONLY`) between such a layer and the output."""
    found, seen = [], set()
    pending = [_layer_of(output) for output in keras.tree.flatten(model.outputs)]
    while pending:
        layer = pending.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, keras.Model):  # a Sequential or functional stack: its own outputs
            pending += [_layer_of(output) for output in keras.tree.flatten(layer.outputs)]
            continue
        found.append(layer)
        if isinstance(layer, _SHAPE_ONLY):
            node = private.inbound_node(layer)
            pending += [_layer_of(tensor) for tensor in keras.tree.flatten(node.input_tensors)]
    return found


def set_policy(model, policy, float32_layers=()):
    """Give every layer of `model` (nested models included) `policy`, except
    its `output_layers` and the layers of the classes `float32_layers`, which
    compute in float32."""
    keep = {id(layer) for layer in output_layers(model)}
    for layer in private.all_layers(model, include_self=True):
        float32 = id(layer) in keep or isinstance(layer, float32_layers)
        layer.dtype_policy = "float32" if float32 else policy


def _compiled_models(gan):
    """The networks of `gan` that have an optimizer (D, combined, SRGAN's srresnet ...)."""
    return [model for model, _ in trained_networks(gan)]


def _use_loss_scaling(gan, scale):
    """Wrap each optimizer of `gan` in a LossScaleOptimizer (`scale`), or unwrap
    it; models sharing an optimizer keep sharing it."""
    replaced = {}
    for model in _compiled_models(gan):
        optimizer = model.optimizer
        wrapped = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        if wrapped != scale:
            if optimizer.built:  # its state would be lost
                raise RuntimeError("Choose mixed_float16 before a model trains, or keep it.")
            if id(optimizer) not in replaced:
                replaced[id(optimizer)] = (keras.optimizers.LossScaleOptimizer(optimizer) if scale
                                           else optimizer.inner_optimizer)
            model.optimizer = replaced[id(optimizer)]


def use_precision(gan, precision="float32", say=print):
    """Make the networks `gan` declares in `precision_networks()` (G and D,
    and any other network the GAN trains through or reads: InfoGAN's Q head,
    SRGAN's VGG19) compute in `precision` (see the module's docstring);
    returns the precision chosen (see `choose`), which is also kept in
    `gan.precision`. Call it once the networks are built and compiled,
    before they train."""
    networks = gan.precision_networks()
    convolutional = any(isinstance(layer, _CONVOLUTIONS) for model in networks
                        for layer in private.all_layers(model))
    chosen = choose(precision, say, convolutional, getattr(gan, "auto_float32_because", None))
    policy = keras.DTypePolicy(chosen)
    # On a CPU the elementwise layers are faster in float32 (the module's docstring).
    float32_layers = _ELEMENTWISE if chosen in _HALF and not gpu_compute_capabilities() else ()
    for model in networks:
        set_policy(model, policy, float32_layers)
    _use_loss_scaling(gan, chosen == "mixed_float16")
    gan.precision, gan.requested_precision = chosen, precision
    return chosen


def resume_precision(gan, stored, say=print):
    """On --resume: a run whose precision was chosen for the user ("auto")
    goes on in the precision its checkpoint recorded (`stored`), where this
    machine computes it; one asked for by name is kept (`fit` then warns that
    it changed)."""
    if stored and getattr(gan, "requested_precision", None) == "auto" and stored != gan.precision:
        if use_precision(gan, stored, say) == stored:
            say(f"Precision: {stored}, as the run was trained until now.")


def compute_dtypes(model):
    """{layer name: compute dtype} of every layer in `model` (for tests and checks)."""
    return {layer.name: layer.compute_dtype for layer in private.all_layers(model)}


def instruction_sets():
    """The instruction sets this module looks for that this CPU has (for benchmarks)."""
    flags = cpu_flags()
    return [flag for flag in ("avx512f", "avx512_bf16", "amx_bf16", "avx512_fp16", "amx_fp16")
            if flag in flags]

