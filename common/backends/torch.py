"""The training step on PyTorch: Keras' own `train_step`, captured once as
one graph of PyTorch operations and replayed.

On PyTorch a Keras model's `train_step(data)` runs the forward pass, calls
`zero_grad()`, back-propagates the loss and applies the optimizer, as in
keras.io's "custom train step in PyTorch" guide; `train_on_batch` below is that
step after resetting the metrics. The frozen D inside the combined model is
called with D's own parameters, so the combined step leaves gradients on them;
D's next step clears them first (`zero_grad`), so they never reach D's update.

Run eagerly, much of a step's time is Keras' Python around PyTorch's
operations (each layer call, the loss and metric trackers, the optimizer),
not the arithmetic, and a small model's step is mostly Python (replayed
against eager: docs/results.md, "PyTorch: the recorded step"). So
`compiled_step` runs the GAN's whole `train_step` once for real under
`torch.fx`'s `make_fx`, which records every PyTorch operation it performs
(forward, backward, optimizer and metric updates, BatchNorm and dropout
included), and from then on replays that record: the same operations on the
same tensors in the same order, with none of the Python (bit for bit the eager
step's results, tests/test_backends.py). As on JAX every variable of the GAN
is an input of the graph, never a constant in it, so the frozen D in the
combined step reads the D of this step (the stale-D hazard). One graph per
batch shape and per value of a bool argument (SRGAN's phase); a step that
cannot be recorded (it branches on a tensor's value, or reads a tensor that is
not one of the GAN's variables) says so once and runs eagerly.
`torch.compile` of the step does not run on Keras 3.15 / torch 2.13:
TorchDynamo fails in Keras' loss set-up before the first step, and after an
eager first step recompiles Keras' layer `_setattr_hook` until its limit
(docs/backends.md).
"""
import contextlib
import sys

import keras
import torch

from common import private
from common.backends import gan_variables, is_static, merge_static, variables_to_compile
from common.run_state import run_state


def train_on_batch(model, x, y):
    """`model.train_on_batch(x, y)`: the model's own train step after
    resetting its metrics, as `train_on_batch` does. The batch is data, as
    the arrays given to `train_on_batch` are: images G generated in this step
    are detached from G's graph, or D's backward pass would run on into G and
    leave its gradients on G's weights (which the combined model's
    `zero_grad` does not reach) for G's own step to add to its own."""
    model.reset_metrics()
    return model.train_step((_data(x), _data(y)))


def generate(generator, inputs):
    """G's images for D's step, as `generator.predict_on_batch` makes them:
    inference mode, and no autograd graph recorded (D's step takes them as
    data; the hand-written PyTorch step writes `torch.no_grad()` here)."""
    with torch.no_grad():
        return generator(inputs, training=False)


def _data(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_data(v) for v in value)
    return value.detach() if isinstance(value, torch.Tensor) else value


def compiled_step(gan, jit_compile=None, **unused):
    """`gan.train_step` recorded once per batch shape and replayed (see the
    module's docstring), on the batch's arrays as tensors (a model called on
    [generated images, labels] refuses a list that mixes tensors and numpy
    arrays). `jit_compile=False` runs every step eagerly."""
    gan.jit_compile = jit_compile is not False
    step = run_state(gan).compiled_step
    if step is not None:
        return step
    graphs = {}  # (precision, shapes, static values) -> _Graph, or None: eager
    state = {"log_names": ["loss"]}

    def run(*batch):
        """The step; a NaN probability gives NaN losses, as on the other
        backends, where PyTorch's binary cross-entropy raises instead (the
        training loop then stops, "a loss is not finite", and keeps the last
        good checkpoint)."""
        try:
            logs = one_step(*batch)
        except RuntimeError as error:
            if "should be between 0 and 1" not in str(error):
                raise
            return {name: float("nan") for name in state["log_names"]}
        state["log_names"] = list(logs)
        return logs

    def one_step(*batch):
        tensors = [a if is_static(a) else keras.ops.convert_to_tensor(a) for a in batch]
        if not gan.jit_compile:
            return gan.train_step(*tensors)
        if "variables" not in state:
            state["variables"], logs = variables_to_compile(gan, tensors)
            if logs is not None:  # the first step ran eagerly
                return logs
        static = tuple((i, bool(v)) for i, v in enumerate(tensors) if is_static(v))
        arrays = [t for t in tensors if not is_static(t)]
        key = (getattr(gan, "precision", None), static,
               tuple((tuple(a.shape), a.dtype) for a in arrays))
        if key not in graphs:
            graph, logs = _record(gan, state["variables"], static, arrays)
            variables = gan_variables(gan)
            if [id(v) for v in variables] == [id(v) for v in state["variables"]]:
                graphs[key] = graph
            else:  # the step created variables: they are inputs of the next recording
                state["variables"] = variables
            return logs
        graph = graphs[key]
        if graph is None:
            return gan.train_step(*tensors)
        return graph(state["variables"], arrays)

    run_state(gan).compiled_step = run
    return run


class _Graph:
    """A recorded step: the graph module and the names of the logs it returns."""

    def __init__(self, module, names):
        self.module, self.names = module, names

    def __call__(self, variables, arrays):
        with torch.no_grad():  # the graph holds its backward pass as operations
            values = self.module([v.value for v in variables], *arrays)
        return dict(zip(self.names, values))


def _record(gan, variables, static, arrays):
    """Run one step for real while recording it; returns (_Graph or None, logs).
    If recording fails part-way, the variables (and PyTorch's random state)
    are put back and the step runs eagerly instead."""
    make_fx = private.make_fx()
    kept = ([v.value.detach().clone() for v in variables], torch.get_rng_state(),
            torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)
    logs = {}

    def step(values, *arrays):
        logs.update(gan.train_step(*merge_static(static, arrays)))
        return [keras.ops.convert_to_tensor(value) for value in logs.values()]

    try:
        module = make_fx(step, tracing_mode="real")([v.value for v in variables], *arrays)
    except Exception as error:  # branches on a value, or an operation make_fx cannot record
        with torch.no_grad():
            for variable, value in zip(variables, kept[0]):
                variable.value.copy_(value)
        torch.set_rng_state(kept[1])
        if kept[2] is not None:
            torch.cuda.set_rng_state_all(kept[2])
        logs = gan.train_step(*merge_static(static, arrays))  # (an error of the step: raised here)
        _say_eager(gan, f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
        return None, logs
    why = _unsafe(module)
    if why:
        _say_eager(gan, why)
        return None, logs
    return _Graph(module, list(logs)), logs


def _unsafe(module):
    """Why replaying `module` would not be the step it recorded, or None: it
    holds a variable the GAN does not hold, or a tensor the step made from an
    array (noise drawn inside the step would be replayed as the same noise).
    Constants of up to 8 values are what the step computes from its Python
    numbers and its batch's shape (0.5 * loss, a loss's mean over a patch),
    the same at every replay of that shape."""
    for node in module.graph.nodes:
        if node.op == "get_attr":
            constant = getattr(module, node.target)
            if isinstance(constant, torch.nn.Parameter) or constant.numel() > 8:
                return (f"the step reads a tensor of shape {tuple(constant.shape)} that is not "
                        "one of the GAN's variables (it would be replayed as a constant)")
    return None


def _say_eager(gan, why):
    if not run_state(gan).said_eager:
        run_state(gan).said_eager = True
        print(f"Note: {type(gan).__name__}'s step could not be recorded as one PyTorch graph "
              f"({why}); it runs eagerly (slower, same results).", file=sys.stderr)


def global_random_state():
    """PyTorch's global random generators' states, {name: uint8 array}. Keras'
    Dropout without a seed draws its masks from them on PyTorch (on TensorFlow
    and JAX from a SeedGenerator variable, which a checkpoint holds with the
    weights): a checkpoint keeps them too, so that a resumed run draws the
    masks the straight run would have drawn."""
    states = {"torch_cpu": torch.get_rng_state().numpy()}
    if torch.cuda.is_available():
        states.update({f"torch_cuda{i}": state.numpy()
                       for i, state in enumerate(torch.cuda.get_rng_state_all())})
    return states


def set_global_random_state(states):
    """Put back what `global_random_state` gave (a generator it does not name is left as is)."""
    if "torch_cpu" in states:
        torch.set_rng_state(torch.from_numpy(states["torch_cpu"]))
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            if f"torch_cuda{i}" in states:
                torch.cuda.set_rng_state(torch.from_numpy(states[f"torch_cuda{i}"]), i)


def match_xla(gan, jit_compile=None):
    return False


def model_strategy(gan):
    return None


def strategy_scope(gan):
    return contextlib.nullcontext()


def is_chief(gan):
    return True


class _OneDevice:
    def scope(self):
        return contextlib.nullcontext()


def make_strategy(name="default", cpu_devices=None):
    """One device: the zoo has no data-parallel training on PyTorch."""
    from common.errors import UserError
    if name != "default" or (cpu_devices or 1) > 1:
        raise UserError(f"--strategy {name} and --cpu-devices need the TensorFlow or JAX backend: "
                        "on PyTorch the zoo trains on one device (set KERAS_BACKEND=jax or "
                        "tensorflow for several).")
    return _OneDevice()


def input_gradient(fn, x):
    """The gradient of `sum(fn(x))` with respect to `x` (common/gradients.py):
    `torch.autograd.grad` with `create_graph=True`, so that the step's
    `loss.backward()` differentiates through it (a second derivative), eagerly
    and while `make_fx` records the step. Zeros where `fn` does not depend on `x`."""
    x = keras.ops.convert_to_tensor(x)
    if not x.requires_grad:  # data: a leaf of its own, the caller's tensor untouched
        x = x.detach().requires_grad_()
    with torch.enable_grad():  # also inside an inference-mode caller (`generate`)
        total = fn(x).sum()
        if not total.requires_grad:  # fn reads neither x nor a trainable weight
            return torch.zeros_like(x)
        gradient, = torch.autograd.grad(total, x, create_graph=True, allow_unused=True,
                                        materialize_grads=True)
    return gradient


def uniform(shape, dtype=None, seed=None):
    """`keras.random.uniform(shape, dtype=dtype, seed=seed)` in [0, 1), but drawn
    from PyTorch's global generator where `seed` is None or a SeedGenerator
    made without a seed, as Keras' own Dropout draws on PyTorch: keras.random
    reads its seed in Python (`int(...)`), which `make_fx` cannot record (the
    step would run eagerly), while `torch.rand` is recorded as one operation
    that draws afresh at every replay, from the generator checkpoints keep
    (`global_random_state`). A fixed seed draws as Keras does, reproducibly."""
    if seed is not None and not (isinstance(seed, keras.random.SeedGenerator)
                                 and private.seed_generator_unseeded(seed)):
        return keras.random.uniform(shape, dtype=dtype, seed=seed)
    dtype = keras.backend.standardize_dtype(dtype or keras.config.floatx())
    return torch.rand([int(size) for size in shape], dtype=getattr(torch, dtype),
                      device=private.torch_device())
