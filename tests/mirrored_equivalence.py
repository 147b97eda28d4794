"""Run by tests/test_distribute.py in its own process (TensorFlow's devices can
be split only before it starts): for each model named, train it a few steps on
one CPU device and, from the same weights and batches, under MirroredStrategy
over two logical CPU devices, dropout off in both (and, in float32, ReLU
and LeakyReLU made smooth: `smooth_activations`), and report the largest
weight difference; then train it mirrored with its dropout on, and report how
far that moved the weights from the run without. One JSON line per model. A
model named with a precision (dcgan:mixed_bfloat16) trains in it, in both
ways, as if the machine computed it natively (common/precision.py).

    python tests/mirrored_equivalence.py 3 gan dcgan cgan dcgan:mixed_bfloat16
"""
import json
import os
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(TESTS))
sys.path.insert(0, TESTS)

from common.backends import tensorflow_distribute as distribute  # noqa: E402

distribute.split_cpu(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from common import checkpoints, precision, private  # noqa: E402
from common.data import ArrayImages  # noqa: E402
from test_infogan import TinyINFOGAN  # noqa: E402
from tiny import TinyCGAN, TinyDCGAN, TinyGAN, TinyWGAN  # noqa: E402

# GAN: dense layers, BatchNorm in G; DCGAN: convolutions, BatchNorm in both, Dropout in D;
# CGAN: the labels travel with the images to every replica; WGAN: n_critic
# critic steps and the clip inside the step; InfoGAN: a third network (Q's
# head) trained with G.
MODELS = {"gan": TinyGAN, "dcgan": TinyDCGAN, "cgan": TinyCGAN, "wgan": TinyWGAN,
          "infogan": TinyINFOGAN}
# The layers that compute (matrix products), but for the networks' output layers,
# which stay float32 in every precision.
COMPUTING = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def dropout_layers(gan):
    return [layer for model in (gan.generator, gan.discriminator)
            for layer in private.all_layers(model)
            if isinstance(layer, keras.layers.Dropout)]


def smooth_activations(gan):
    """ReLU and LeakyReLU become SiLU, in every network of `gan`. Both runs sum
    in another order, so a pre-activation within float rounding of a kink can
    take one slope in one run and the other slope in the other; Adam's first
    steps (a step of about the learning rate times the gradient's sign) turn
    that into weight differences of the learning rate's size, not of float
    rounding (seen: the tiny InfoGAN on one thread per process, 1.0e-3; one
    device alone moved as far from weights changed by 1e-7). SiLU has no kink:
    the runs then differ by rounding only, and the wiring is what is compared.
    (In 16-bit the runs are held to bfloat16's own rounding instead, kinks
    and all.)"""
    for network in gan.networks().values():
        for layer in private.all_layers(network):
            if isinstance(layer, keras.layers.LeakyReLU):
                layer.call = keras.activations.silu
            elif getattr(layer, "activation", None) is keras.activations.relu:
                layer.activation = keras.activations.silu


def train(cls, strategy, steps, out, weights, dropout=False, precision_name="float32"):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (256, 28, 28, 1)).astype("float32")
    dataset = (images, rng.integers(0, 10, 256)) if cls is TinyCGAN else ArrayImages(images)
    with strategy.scope():
        gan = cls(dataset=dataset, out_dir=out, seed=7, precision=precision_name)
    # Each replica draws dropout masks for its slice of the batch, other masks
    # than one device draws for the whole batch: with dropout the two runs
    # agree in distribution only, without it they must agree to float rounding.
    # (The tiny networks have no bias before a BatchNorm, whose float noise
    # Adam would blow up into steps of either sign: see tests/tiny.py.)
    if not dropout:
        for layer in dropout_layers(gan):
            layer.rate = 0.0
    if precision_name == "float32":
        smooth_activations(gan)
    for variable, value in zip(checkpoints._state_variables(gan), weights):
        variable.assign(value)
    gan.train(epochs=steps, batch_size=16, sample_interval=10 ** 6, quiet=True,
              jit_compile=False)
    return gan


def largest_difference(a, b):
    return max(float(np.max(np.abs(x.numpy() - y.numpy()))) for x, y in
               zip(a.generator.weights + a.discriminator.weights,
                   b.generator.weights + b.discriminator.weights))


def relative_difference(a, b, start):
    """How far apart two runs' trained weights ended, against how far `a`'s
    moved from `start` (their first values, in their order)."""
    pairs = list(zip(a.generator.trainable_weights + a.discriminator.trainable_weights,
                     b.generator.trainable_weights + b.discriminator.trainable_weights))
    apart = sum(float(np.sum((x.numpy() - y.numpy()) ** 2)) for x, y in pairs)
    moved = sum(float(np.sum((x.numpy() - value) ** 2)) for (x, _), value in zip(pairs, start))
    return (apart / moved) ** 0.5


def compare(name, steps, out, mirrored_strategy):
    model, _, precision_name = name.partition(":")
    cls, precision_name = MODELS[model], precision_name or "float32"
    start_model = cls(dataset=None, out_dir=os.path.join(out, "a"), seed=7)  # the starting weights
    start = [np.array(v.numpy(), copy=True) for v in checkpoints._state_variables(start_model)]
    single = train(cls, distribute.make_strategy("default"), steps, os.path.join(out, "b"), start,
                   precision_name=precision_name)
    mirrored = train(cls, mirrored_strategy, steps, os.path.join(out, "c"), start,
                     precision_name=precision_name)
    trained = single.generator.trainable_weights + single.discriminator.trainable_weights
    initial = {id(v): value for v, value in zip(checkpoints._state_variables(single), start)}
    report = {"model": name, "replicas": mirrored_strategy.num_replicas_in_sync,
              "precision": mirrored.precision,
              "compute_dtypes": sorted({layer.compute_dtype for model in
                                        (mirrored.generator, mirrored.discriminator)
                                        for layer in private.all_layers(model)
                                        if isinstance(layer, COMPUTING)}),
              "weight_dtypes": sorted({v.dtype for v in mirrored.generator.weights +
                                       mirrored.discriminator.weights}),
              "max_difference": largest_difference(single, mirrored),
              "max_change": max(float(np.max(np.abs(v.numpy() - initial[id(v)])))
                                for v in trained)}
    if precision_name != "float32":  # how far 16-bit itself moves the weights from float32
        in_float32 = train(cls, distribute.make_strategy("default"), steps,
                           os.path.join(out, "f"), start)
        first = [initial[id(v)] for v in trained]
        report["relative_difference"] = relative_difference(single, mirrored, first)
        report["precision_effect"] = relative_difference(in_float32, single, first)
    elif dropout_layers(single):
        with_dropout = train(cls, mirrored_strategy, steps, os.path.join(out, "d"), start,
                             dropout=True)
        report["dropout_effect"] = largest_difference(with_dropout, mirrored)
        report["dropout_finite"] = all(np.isfinite(v.numpy()).all()
                                       for v in with_dropout.discriminator.weights)
    return report


def main():
    steps, names = int(sys.argv[1]), sys.argv[2:]
    # 16-bit as on a machine with the instructions (the mechanics, on any CPU).
    precision.hardware_support = lambda name: (True, "assumed by the test")
    mirrored_strategy = distribute.make_strategy("mirrored")  # one for all: collectives
    with tempfile.TemporaryDirectory() as out:
        for name in names:
            folder = os.path.join(out, name.replace(":", "-"))
            print(json.dumps(compare(name, steps, folder, mirrored_strategy)), flush=True)


if __name__ == "__main__":
    main()
