"""Training on several GPUs or machines with tf.distribute.

    --strategy default       one device (the GPU if there is one, else the CPU)
    --strategy mirrored      every visible GPU of this machine (--gpus picks),
                             one replica each; on a CPU-only machine
                             --cpu-devices N splits the CPU into N replicas
    --strategy multiworker   several machines, each with its GPUs, described
                             by the TF_CONFIG environment variable (docs/distributed.md)

A model is built under `strategy.scope()` (its weights and optimizer states
become mirrored variables); `common.training.fit` then runs the model's own
`train_step` on every replica, each on its slice of the global batch
(`--batch-size` is the global batch), and reduces the logs. Keras scales each
replica's loss by 1/replicas and the optimizer sums the replicas' gradients,
so a step computes the gradient of the global batch's mean loss, as on one
device. BatchNormalization normalises with the statistics of the global batch
too (`synchronized`), so a distributed step is the single-device step, split.

Only the chief (worker 0, or the one process of `mirrored`) writes samples,
models and checkpoints to --out; the other workers run the same code into a
temporary folder that is deleted at the end, because saving reads variables
with collective operations every worker has to join.
"""
import json
import os

import keras
import numpy as np
import tensorflow as tf

from common import private
from common.cli import STRATEGIES
from common.errors import UserError


def split_cpu(devices):
    """Make the CPU `devices` logical devices (mirrored training without a GPU,
    for tests and for trying it out); call before TensorFlow uses the CPU."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)])
    except RuntimeError:
        if len(tf.config.list_logical_devices("CPU")) != devices:
            raise UserError("--cpu-devices must be set before TensorFlow starts: "
                            "set it on the command line, not after building a model.") from None


def make_strategy(name="default", cpu_devices=None):
    """The tf.distribute strategy called `name` (one of STRATEGIES)."""
    if name not in STRATEGIES:
        raise UserError(f"Unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}.")
    if cpu_devices and cpu_devices > 1:
        if name != "mirrored":
            raise UserError("--cpu-devices splits the CPU for --strategy mirrored only.")
        split_cpu(cpu_devices)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus or tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(devices)
        names = ", ".join(d.split("device:")[-1] for d in devices)
        print(f"Strategy: mirrored, {strategy.num_replicas_in_sync} replicas ({names}).")
        return strategy
    workers = check_tf_config()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    print(f"Strategy: multiworker, {workers} workers, {strategy.num_replicas_in_sync} replicas "
          f"in all; this is worker {strategy.cluster_resolver.task_id}.")
    return strategy


def check_tf_config():
    """Refuse a multi-worker run whose TF_CONFIG is missing or malformed, in one sentence."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise UserError("--strategy multiworker needs the TF_CONFIG environment variable "
                        "(the cluster's addresses and this worker's index): see docs/distributed.md.")
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        assert task["type"] in config["cluster"] and isinstance(task["index"], int)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise UserError('TF_CONFIG must look like {"cluster": {"worker": ["host1:port", '
                        '"host2:port"]}, "task": {"type": "worker", "index": 0}}; '
                        f"got {text!r}.") from None
    return len(workers)


def model_strategy(gan):
    """The strategy `gan`'s models were built under (inside `strategy.scope()`),
    or None when they were built for one device."""
    return next((private.distribute_strategy(network) for network in gan.networks().values()
                 if private.distribute_strategy(network) is not None), None)


def is_chief(strategy):
    """Whether this process writes the run's files."""
    return strategy is None or getattr(strategy.extended, "should_checkpoint", True)


def synchronize_batchnorm(*models):
    """Normalise with the global batch's statistics on every replica."""
    for model in models:
        for layer in private.all_layers(model):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True


def split_batch(strategy, arrays):
    """Each replica's slice of the global batch `arrays` (scalars go to all)."""
    replicas = strategy.num_replicas_in_sync
    batch = next((len(a) for a in arrays if np.ndim(a)), None)
    if batch is not None and batch % replicas:
        raise UserError(f"The batch of {batch} does not split evenly over {replicas} replicas: "
                        f"choose a --batch-size that is a multiple of {replicas}.")
    per_replica = (batch or 0) // replicas

    # Tensors, not numpy slices: a model called on [noise, labels] (CGAN, ACGAN)
    # refuses a list that mixes the two in the first, eager step.
    def slice_for(array):
        if not np.ndim(array):
            return lambda context: tf.convert_to_tensor(array)
        return lambda context: tf.convert_to_tensor(
            array[context.replica_id_in_sync_group * per_replica:
                  (context.replica_id_in_sync_group + 1) * per_replica])

    return [strategy.experimental_distribute_values_from_function(slice_for(a)) for a in arrays]


def distributed_step(gan, strategy, jit_compile):
    """`gan.train_step` run on every replica of `strategy` in one compiled
    function; takes the global batch, returns the replicas' mean logs.

    The first step runs eagerly: Keras creates the compiled metrics' and
    losses' variables at their first use, and a distributed compiled function
    cannot create variables."""
    synchronize_batchnorm(*gan.networks().values())

    def replicated(*per_replica):
        logs = strategy.run(gan.train_step, args=per_replica)
        return {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for name, value in logs.items()}

    compiled = tf.function(replicated, jit_compile=jit_compile, reduce_retracing=True)
    first = [True]

    def step(*arrays):
        per_replica = split_batch(strategy, arrays)
        if first[0]:
            first[0] = False
            # One eager step is needed (above); TensorFlow's warning that eager
            # replicas are slow would only alarm the user.
            logger = tf.get_logger()
            level = logger.level
            logger.setLevel("ERROR")
            try:
                return replicated(*per_replica)
            finally:
                logger.setLevel(level)
        return compiled(*per_replica)
    return step
