"""A number the step reads, changed between two `train()` calls, changes the
next step, on every backend: a traced (TensorFlow), jitted (JAX) or recorded
(PyTorch) step would otherwise keep the value it was compiled with, and train
on with the old label or beta without a word."""
import numpy as np
import pytest

from common.data import ArrayImages
from common.training import compiled_step
from conftest import without_dropout
from tiny import TinyDCGAN


def set_real_label(gan):
    gan.real_label = 0.5


def set_d_learning_rate(gan):
    gan.discriminator.optimizer.learning_rate = 0.002


def set_d_beta_1(gan):
    gan.discriminator.optimizer.beta_1 = 0.9


@pytest.mark.parametrize("change", [set_real_label, set_d_learning_rate, set_d_beta_1],
                         ids=lambda change: change.__name__)
def test_a_setting_changed_between_compiled_steps_changes_the_next_step(change, tmp_path):
    data = ArrayImages(np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32"))
    changed, unchanged, eager = [TinyDCGAN(dataset=data, out_dir=str(tmp_path), seed=3)
                                 for _ in range(3)]
    for gan in (changed, unchanged, eager):
        # the twins must draw the same masks; PyTorch's unseeded Dropout cannot
        without_dropout(gan.discriminator)
    batches = [changed.draw_batch(np.random.default_rng(seed), 16) for seed in (1, 2)]
    for gan in (changed, unchanged):
        compiled_step(gan)(*batches[0])
    eager.train_step(*batches[0])
    for gan in (changed, eager):
        change(gan)
    for gan in (changed, unchanged):
        compiled_step(gan)(*batches[1])
    eager.train_step(*batches[1])

    d = changed.discriminator.trainable_weights
    moved = max(float(np.max(np.abs(a.numpy() - b.numpy())))
                for a, b in zip(d, unchanged.discriminator.trainable_weights))
    assert moved > 1e-5, f"{change.__name__} did not change the compiled step's D update"
    # ... and changed it to what the same step run eagerly with the new setting gives.
    for a, b in zip(changed.generator.weights + changed.discriminator.weights,
                    eager.generator.weights + eager.discriminator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6, err_msg=a.path)
