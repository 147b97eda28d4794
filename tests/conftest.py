import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def snapshot(variables):
    """Copies of the values of `variables`, to compare before and after a step."""
    return [np.array(v.numpy(), copy=True) for v in variables]


def changed(before, variables):
    return [v.path for v, old in zip(variables, before) if not np.array_equal(old, v.numpy())]


def run_script(script, *args, cwd, timeout=300):
    """Run a model script as a user would (`python <repo>/dcgan/dcgan.py ...`) from `cwd`."""
    return subprocess.run([sys.executable, os.path.join(REPO, script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def mnist_batch():
    from common.data import load_mnist
    images, labels = load_mnist(verbose=False)
    return images[:16], labels[:16]
