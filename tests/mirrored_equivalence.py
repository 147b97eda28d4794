"""Run by tests/test_distribute.py in its own process (TensorFlow's devices can
be split only before it starts): train a model a few steps on one CPU device
and, from the same weights and batches, under MirroredStrategy over two
logical CPU devices, dropout off in both; print the largest weight
difference as JSON.

    python tests/mirrored_equivalence.py gan 3
"""
import json
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from common import distribute  # noqa: E402

distribute.split_cpu(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from common import checkpoints  # noqa: E402
from common.data import ArrayImages, load_mnist  # noqa: E402

MODELS = {"gan": ("gan.gan", "GAN"), "dcgan": ("dcgan.dcgan", "DCGAN")}


def train(cls, strategy, steps, out, weights=None):
    images = load_mnist(verbose=False)[0][:256]
    with strategy.scope():
        gan = cls(dataset=ArrayImages(images), out_dir=out, seed=7)
    # Dropout draws its masks per replica, so with it the two runs agree in
    # distribution only; without it they must agree to float rounding.
    for model in (gan.generator, gan.discriminator):
        for layer in model._flatten_layers(include_self=False):
            if isinstance(layer, keras.layers.Dropout):
                layer.rate = 0.0
    # Adam's first steps move every weight by about the learning rate whatever
    # the size of its gradient, so float noise in a gradient that is zero in
    # exact arithmetic (a bias before BatchNorm) becomes a full step of either
    # sign. With a large epsilon the update is proportional to the gradient.
    for model in (gan.discriminator, gan.combined):
        model.optimizer.epsilon = 1.0
    if weights is not None:
        for variable, value in zip(checkpoints._state_variables(gan), weights):
            variable.assign(value)
    gan.train(epochs=steps, batch_size=16, sample_interval=10 ** 6, quiet=True,
              jit_compile=False)
    return gan


def main():
    name, steps = sys.argv[1], int(sys.argv[2])
    module, cls_name = MODELS[name]
    cls = getattr(__import__(module, fromlist=[cls_name]), cls_name)
    with tempfile.TemporaryDirectory() as out:
        single = cls(dataset=None, out_dir=os.path.join(out, "a"), seed=7)  # the starting weights
        start = [np.array(v.numpy(), copy=True) for v in checkpoints._state_variables(single)]
        single = train(cls, distribute.make_strategy("default"), steps, os.path.join(out, "b"), start)
        mirrored_strategy = distribute.make_strategy("mirrored")
        mirrored = train(cls, mirrored_strategy, steps, os.path.join(out, "c"), start)
        trained = single.generator.trainable_weights + single.discriminator.trainable_weights
        initial = {id(v): value for v, value in zip(checkpoints._state_variables(single), start)}
        moved = max(float(np.max(np.abs(v.numpy() - initial[id(v)]))) for v in trained)
        differences = [float(np.max(np.abs(a.numpy() - b.numpy()))) for a, b in
                       zip(single.generator.weights + single.discriminator.weights,
                           mirrored.generator.weights + mirrored.discriminator.weights)]
    print(json.dumps({"replicas": mirrored_strategy.num_replicas_in_sync,
                      "max_difference": max(differences), "max_change": moved}))


if __name__ == "__main__":
    main()
