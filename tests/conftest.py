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
def mnist_batch():
    from common.data import load_mnist
    images, labels = load_mnist(verbose=False)
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
