"""Every private name of Keras, TensorFlow, JAX and PyTorch the zoo uses, in one place.

The zoo reaches past the libraries' public APIs where no public one does the
job (each function below says why). Such names may move in any release, so
they live here and nowhere else, and `tests/test_private.py` checks each one
against the installed libraries: an upgrade that moves one fails there, in
one sentence naming the versions the zoo is tested with (`TESTED`, the ranges
setup.py declares), instead of somewhere deep in a training step.

Nothing here imports a framework at module level (common/ must load without
TensorFlow on JAX and PyTorch), and nothing here imports from common/.
"""
import contextlib

# The versions the test suite runs with; setup.py accepts these and no others.
TESTED = {"keras": "3.15", "tensorflow": "2.21", "jax": "0.10", "torch": "2.13"}


def tested_versions():
    """'Keras 3.15, TensorFlow 2.21, JAX 0.10 and PyTorch 2.13', for messages."""
    names = {"keras": "Keras", "tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
    parts = [f"{names[lib]} {version}" for lib, version in TESTED.items()]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# ---------------------------------------------------------------------------
# Keras: layers and models
# ---------------------------------------------------------------------------

def all_layers(model, include_self=False):
    """Every layer inside `model`, nested models' layers included, depth first.
    `model.layers` lists the top level only; the precision policy, the saving
    dtype, synchronised BatchNorm and the XLA choice need every layer."""
    return list(model._flatten_layers(include_self=include_self))


def layer_of(tensor):
    """The layer that made a symbolic Keras tensor (a model's output). Keras
    keeps this link as the tensor's `_keras_history`; no public accessor."""
    return tensor._keras_history[0]


def inbound_nodes(layer):
    """The nodes of `layer` in functional graphs (one per call in a model);
    a node's `input_tensors`, `parent_nodes` and `operation` lead back through
    the model. Keras' `Layer` has no public accessor for its nodes."""
    return layer._inbound_nodes


def inbound_node(layer):
    """The first of `inbound_nodes(layer)`: its call in the model it was built in."""
    return inbound_nodes(layer)[0]


def compile_config(model):
    """The arguments `model.compile` was given ({} if none): which metrics were
    named by a string, a choice Keras makes from the targets' shape."""
    return getattr(getattr(model, "_compile_config", None), "config", None) or {}


def symbolic_build(model, data_batch):
    """Create the compiled loss's and metrics' variables from symbolic data, as
    Keras' own `fit` does before it compiles its step (a jitted or recorded step
    cannot create variables)."""
    model._symbolic_build(data_batch=data_batch)


def distribute_strategy(model):
    """The tf.distribute strategy a model was built under, or None (Keras records
    it on the model on TensorFlow; there is no public getter)."""
    return getattr(model, "_distribute_strategy", None)


def seed_generator_unseeded(seed):
    """True for a `keras.random.SeedGenerator` made without a seed: on PyTorch
    its draws can come from torch's own generator instead (recordable)."""
    return seed._initial_seed is None


# ---------------------------------------------------------------------------
# Keras: its configuration, scopes and lazy imports
# ---------------------------------------------------------------------------

def keras_home():
    """Keras' home folder as keras.datasets uses it ($KERAS_HOME as read when
    Keras loaded, else ~/.keras)."""
    from keras.src.backend.config import keras_home as home
    return home()


# Where Keras keeps that folder, read once at import: (module, attribute), for
# a test that gives Keras an empty home of its own.
KERAS_HOME_SETTING = ("keras.src.backend.config", "_KERAS_DIR")


def stateless_scope():
    """The innermost Keras `StatelessScope`, or None. An assignment inside a
    nested model's `stateless_call` must reach the scope that holds the
    variable (common/frozen.py); Keras exposes the scope class, not the getter."""
    from keras.src.backend.common.stateless_scope import get_stateless_scope
    return get_stateless_scope()


@contextlib.contextmanager
def outside_stateless_scopes(innermost):
    """Within the block no stateless scope is active, and `innermost` is active
    again after it: a variable is assigned for real from inside a scope."""
    from keras.src.backend.common import global_state
    global_state.set_global_attribute("stateless_scope", None)
    try:
        yield
    finally:
        global_state.set_global_attribute("stateless_scope", innermost)


def lazy_tensorflow():
    """Keras' lazy handle on TensorFlow (a `LazyModule`), or None in another
    Keras. Its `_available` is None until Keras asks whether TensorFlow is
    installed, and asking imports TensorFlow (seconds on JAX or PyTorch)."""
    try:
        from keras.src.utils.module_utils import tensorflow
    except ImportError:
        return None
    return tensorflow


# The lazy module's attribute that holds Keras' answer (None: not asked yet).
LAZY_MODULE_AVAILABLE = "_available"


def lazy_module_asked(module):
    """Whether Keras has already asked if the lazy module is installed (without
    asking: `getattr` would import it)."""
    return vars(module).get(LAZY_MODULE_AVAILABLE, False) is not None


def set_lazy_module_available(module, available):
    """Tell Keras the lazy module is (not) installed; None: ask again next time."""
    setattr(module, LAZY_MODULE_AVAILABLE, available)


# ---------------------------------------------------------------------------
# Keras on JAX, on PyTorch
# ---------------------------------------------------------------------------

def raw_value(variable):
    """A Keras variable's array itself. On JAX the zoo's jitted step swaps every
    variable's array for its traced value and back; `variable.value` would
    apply autocasting and `assign` checks shapes against a tracer."""
    return variable._value


def set_raw_value(variable, value):
    """Put `value` in the variable as its array, unchecked (see `raw_value`)."""
    variable._value = value


def is_jax_tracer(value):
    """Whether `value` is a JAX tracer (a value inside jit), which must never
    be stored in a variable that outlives the trace."""
    import jax
    return isinstance(value, jax.core.Tracer)


def torch_device():
    """The device Keras puts its PyTorch tensors on."""
    from keras.src.backend.torch.core import get_device
    return get_device()


def make_fx():
    """PyTorch's recorder of every operation a function performs (forward,
    backward, in-place updates), `torch.fx.experimental.proxy_tensor.make_fx`:
    an experimental API, the one that records a whole Keras train step."""
    from torch.fx.experimental.proxy_tensor import make_fx as record
    return record
