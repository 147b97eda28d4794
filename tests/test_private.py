"""Every private name of Keras, TensorFlow, JAX and PyTorch the zoo uses is
still there, and does what common/private.py says. An upgrade that moves one
fails here in one sentence naming the tested versions, not in a training step.
The names of a backend that is not installed are skipped (they are never used
without it)."""
import importlib
import importlib.util
import os
import re

import keras
import numpy as np
import pytest

from common import private
from conftest import REPO


def _installed(name):
    return importlib.util.find_spec(name) is not None


def _moved(what, error):
    return (f"Keras or a backend moved a private name the zoo uses ({what}: "
            f"{type(error).__name__}: {error}); the zoo is tested with "
            f"{private.tested_versions()}: install those (pip install -e .), "
            "or update common/private.py.")


def _functional():
    x = keras.Input((3,), name="x")
    y = keras.layers.Dense(2, name="head")(keras.layers.Dense(4, name="body")(x))
    return keras.Model(x, y)


def check_layers():
    inner = _functional()
    outer = keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1, name="top")])
    names = [layer.name for layer in private.all_layers(outer)]
    assert {"body", "head", "top"} <= set(names)
    assert private.all_layers(outer, include_self=True)[0] is outer


def check_functional_graph():
    model = _functional()
    head = private.layer_of(model.outputs[0])
    assert head.name == "head"
    node = private.inbound_node(head)
    assert node is private.inbound_nodes(head)[0] and node.operation is head
    assert private.layer_of(node.input_tensors[0]).name == "body"
    assert [parent.operation.name for parent in node.parent_nodes] == ["body"]


def check_compile_and_symbolic_build():
    model = _functional()
    assert private.compile_config(model) == {}
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert private.compile_config(model)["metrics"] == ["mae"]
    before = len(model.metrics_variables)
    private.symbolic_build(model, data_batch=(model.inputs[0], model.outputs[0]))
    assert len(model.metrics_variables) > before  # the compiled metric's variables


def check_seed_generator():
    assert private.seed_generator_unseeded(keras.random.SeedGenerator())
    assert not private.seed_generator_unseeded(keras.random.SeedGenerator(seed=1))


def check_keras_home():
    assert os.path.isabs(os.path.expanduser(private.keras_home()))
    module, attribute = private.KERAS_HOME_SETTING
    config = importlib.import_module(module)
    kept = getattr(config, attribute)
    try:
        setattr(config, attribute, "/elsewhere/keras")
        assert private.keras_home() == "/elsewhere/keras"
    finally:
        setattr(config, attribute, kept)


def check_stateless_scopes():
    variable = keras.Variable(np.zeros(2, "float32"))
    assert private.stateless_scope() is None
    with keras.StatelessScope() as scope:
        assert private.stateless_scope() is scope
        with private.outside_stateless_scopes(scope):
            assert private.stateless_scope() is None
            variable.assign(np.ones(2, "float32"))
        assert private.stateless_scope() is scope
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), [1, 1])


def check_lazy_tensorflow():
    module = private.lazy_tensorflow()
    assert module is not None
    asked = private.lazy_module_asked(module)
    kept = vars(module)[private.LAZY_MODULE_AVAILABLE]
    try:
        private.set_lazy_module_available(module, None)
        assert not private.lazy_module_asked(module)
    finally:
        private.set_lazy_module_available(module, kept)
    assert private.lazy_module_asked(module) == asked


def check_raw_value():
    variable = keras.Variable(np.zeros(2, "float32"))
    value = private.raw_value(variable)
    private.set_raw_value(variable, keras.ops.convert_to_tensor(np.ones(2, "float32")))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), [1, 1])
    private.set_raw_value(variable, value)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), [0, 0])


def check_distribute_strategy():
    if keras.backend.backend() != "tensorflow":
        assert private.distribute_strategy(_functional()) is None
        return
    import tensorflow as tf
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = _functional()
    assert private.distribute_strategy(model) is strategy


def check_jax_tracer():
    import jax
    seen = []
    jax.jit(lambda x: seen.append(private.is_jax_tracer(x)) or x)(np.ones(2))
    assert seen == [True] and not private.is_jax_tracer(np.ones(2))


def check_torch():
    import torch
    if keras.backend.backend() == "torch":
        assert isinstance(torch.device(private.torch_device()), torch.device)
    graph = private.make_fx()(lambda x: x * 2)(torch.ones(2))
    assert torch.equal(graph(torch.ones(2)), torch.full((2,), 2.0))


CHECKS = {
    "Layer._flatten_layers": check_layers,
    "KerasTensor._keras_history, Layer._inbound_nodes": check_functional_graph,
    "Model._compile_config, Model._symbolic_build": check_compile_and_symbolic_build,
    "SeedGenerator._initial_seed": check_seed_generator,
    "keras.src.backend.config.keras_home, _KERAS_DIR": check_keras_home,
    "keras.src.backend.common stateless scope": check_stateless_scopes,
    "keras.src.utils.module_utils.tensorflow (LazyModule._available)": check_lazy_tensorflow,
    "Variable._value": check_raw_value,
    "Model._distribute_strategy": check_distribute_strategy,
    "jax.core.Tracer": check_jax_tracer,
    "keras.src.backend.torch.core.get_device, torch.fx make_fx": check_torch,
}
NEEDS = {"jax.core.Tracer": "jax", "keras.src.backend.torch.core.get_device, torch.fx make_fx": "torch"}


@pytest.mark.parametrize("what", list(CHECKS))
def test_every_private_name_the_zoo_uses_is_still_there(what):
    if what in NEEDS and not _installed(NEEDS[what]):
        pytest.skip(f"{NEEDS[what]} is not installed: the zoo never uses this name without it")
    try:
        CHECKS[what]()
    except Exception as error:  # AttributeError, ImportError, a changed meaning
        pytest.fail(_moved(what, error), pytrace=False)


def test_no_private_framework_name_outside_common_private():
    """The one module holds them all: grep the code for the usual forms."""
    pattern = re.compile(r"keras\.src|_flatten_layers|_keras_history|_inbound_nodes|"
                         r"_compile_config|_symbolic_build|_distribute_strategy|_initial_seed|"
                         r"\bvariable\._value|\._available\b|jax\.core|jax\._src|torch\._|"
                         r"proxy_tensor|tensorflow\.python|_KERAS_DIR|\"_available\"")
    found = []
    for folder, _, names in os.walk(REPO):
        if any(part.startswith(".") or part in ("build", "runs") for part in
               os.path.relpath(folder, REPO).split(os.sep)):
            continue
        for name in names:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or path in (private.__file__, os.path.abspath(__file__)):
                continue
            for number, line in enumerate(open(path, encoding="utf-8"), 1):
                if pattern.search(line.split("#")[0]) and '"""' not in line:
                    found.append(f"{os.path.relpath(path, REPO)}:{number}: {line.strip()}")
    assert found == [], "private framework names outside common/private.py"


def test_the_message_names_the_tested_versions():
    message = _moved("Layer._flatten_layers", AttributeError("gone"))
    assert "Keras 3.15, TensorFlow 2.21, JAX 0.10 and PyTorch 2.13" in message
    assert message.count(". ") == 0 and message.endswith("common/private.py.")


def test_setup_py_accepts_the_tested_versions_only():
    setup = open(os.path.join(REPO, "setup.py"), encoding="utf-8").read()
    for lib, version in private.TESTED.items():
        major, minor = version.split(".")
        assert f'"{lib}>={version},<{major}.{int(minor) + 1}"' in setup, lib
