"""The training step on JAX: Keras' stateless `train_step`, and the whole GAN
step as one `jax.jit` function.

On JAX a Keras model's `train_step(state, data)` is a pure function of the
model's state (trainable, non-trainable, optimizer and metric variable
values), as in keras.io's "custom train step in JAX" guide. `train_on_batch`
calls it with the variables' current values and assigns the new ones back.

`compiled_step` jits the model's own `train_step(*batch)` (three
`train_on_batch` calls for most models) over every variable of the GAN: while
the function is traced, each variable holds its traced value, so every read,
also the frozen D's inside the combined model, sees this step's value. Had D's
variables been left holding their arrays, the combined step would be traced
with D's weights of the first step as constants and would go on training G
against that D, silently (tests/test_backends.py checks that it does not).
"""
import os

import jax
import keras

from common import backends, private
from common.backends import is_static, merge_static, variables_to_compile
from common.files import cache_folder
from common.run_state import run_state


def train_on_batch(model, x, y):
    """`model.train_on_batch(x, y)`, traceable: Keras' stateless train step
    on the variables' current values, whose results are assigned back."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.reset_metrics()
    groups = (model.trainable_variables, model.non_trainable_variables,
              model.optimizer.variables, model.metrics_variables)
    logs, state = model.train_step(tuple([v.value for v in group] for group in groups), (x, y))
    for group, values in zip(groups, state):
        for variable, value in zip(group, values):
            variable.assign(value)
    return logs


# G's images for D's step: inference mode (common/backends/__init__.py).
generate = backends.generate


def use_compilation_cache():
    """Keep what JAX compiles on disk for the next run: JAX compiles with XLA
    at every start unless its persistent cache has it: the step, and, op by
    op, each weight initializer's random numbers per shape and the
    generator's first call for a sample grid. Each of those small
    compilations is quick, but there are many, so everything is kept, however
    quickly it compiled (JAX's default keeps only compilations of a second or
    more). Beside the TensorFlow XLA choices (`~/.keras/keras_gan_zoo/`, or
    $KERAS_GAN_ZOO_CACHE); a cache folder the user chose is kept, with the
    user's settings."""
    if jax.config.jax_compilation_cache_dir:
        return
    jax.config.update("jax_compilation_cache_dir",
                      os.path.join(cache_folder(), "jax_compilation_cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


def compiled_step(gan, jit_compile=None, **unused):
    """`gan.train_step` jitted over all of the GAN's state (see the module's
    docstring); one program per value of a bool argument (SRGAN's phase).
    `jit_compile=False` runs every step eagerly (slow, for debugging)."""
    step = run_state(gan).compiled_step
    if step is not None:
        return step
    gan.jit_compile = jit_compile is not False
    compiled = {}  # the jitted function per set of static arguments
    log_names = {}  # the logs' names in the step's order, per set of static arguments

    def pure(values, static, *arrays):
        variables = compiled["variables"]
        batch = merge_static(static, arrays)
        held = [private.raw_value(variable) for variable in variables]
        try:
            for variable, value in zip(variables, values):
                private.set_raw_value(variable, value)
            logs = gan.train_step(*batch)
            log_names[static] = list(logs)  # (jit returns a dict's keys sorted)
            return logs, [private.raw_value(variable) for variable in variables]
        finally:  # the variables get their arrays back, never a tracer
            for variable, value in zip(variables, held):
                private.set_raw_value(variable, value)

    def run(*batch):
        if not gan.jit_compile:
            return gan.train_step(*batch)
        if "variables" not in compiled:
            use_compilation_cache()  # (already on when a model script set up its devices)
            compiled["variables"], logs = variables_to_compile(gan, batch)
            if logs is not None:  # the first step ran eagerly
                return logs
        static = tuple((i, bool(v)) for i, v in enumerate(batch) if is_static(v))
        if static not in compiled:
            compiled[static] = jax.jit(pure, static_argnums=1, donate_argnums=0)
        variables = compiled["variables"]
        arrays = [keras.ops.convert_to_tensor(v) for v in batch if not is_static(v)]
        distribution = keras.distribution.distribution()
        if distribution is not None:  # --strategy mirrored: each device its slice of the batch
            arrays = [_split(distribution, a) for a in arrays]
        logs, values = compiled[static]([v.value for v in variables], static, *arrays)
        for variable, value in zip(variables, values):
            private.set_raw_value(variable, value)  # the new arrays (those given were donated)
        # In the step's own order, as on the other backends: history.csv's columns.
        return {name: logs[name] for name in log_names[static]}

    run_state(gan).compiled_step = run
    return run


def _split(distribution, array):
    if not array.ndim:
        return array
    devices = distribution.device_mesh.devices.size
    if array.shape[0] % devices:
        from common.errors import UserError
        raise UserError(f"The batch of {array.shape[0]} does not split evenly over {devices} "
                        f"replicas: choose a --batch-size that is a multiple of {devices}.")
    return keras.distribution.distribute_tensor(array, distribution.get_data_layout(array.shape))


def match_xla(gan, jit_compile=None):
    """Nothing to match on JAX: Keras jits D's own `train_on_batch` and runs
    the combined model's unjitted (common/frozen.py says why)."""
    return jit_compile is not False


def model_strategy(gan):
    """The `keras.distribution` the GAN trains under (common/backends/tensorflow_distribute.py's
    `make_strategy` sets DataParallel for --strategy mirrored), or None."""
    return keras.distribution.distribution()


def strategy_scope(gan):
    import contextlib
    return contextlib.nullcontext()


def is_chief(gan):
    return jax.process_index() == 0


class _Distribution:
    """What a model script builds its model under: on JAX the distribution is
    set for the whole process (`keras.distribution.set_distribution`), so that
    `train()`, after the `with` block, still shards its batches."""

    def scope(self):
        import contextlib
        return contextlib.nullcontext()


def make_strategy(name="default", cpu_devices=None):
    """--strategy on JAX: "default" is one device; "mirrored" is Keras'
    DataParallel over every device JAX sees (GPUs, or with --cpu-devices N the
    CPU split into N), each replica on its slice of the batch, the weights
    replicated; "multiworker" is TensorFlow's (TF_CONFIG)."""
    from common.errors import UserError
    # Before the script builds its model: building it compiles its initializers.
    use_compilation_cache()
    if name == "multiworker":
        raise UserError("--strategy multiworker is TensorFlow's (TF_CONFIG): on JAX use "
                        "--strategy mirrored on one machine, or set KERAS_BACKEND=tensorflow.")
    if cpu_devices and cpu_devices > 1:
        if name != "mirrored":
            raise UserError("--cpu-devices splits the CPU for --strategy mirrored only.")
        try:
            jax.config.update("jax_num_cpu_devices", cpu_devices)
        except RuntimeError:
            pass  # JAX has started: checked below
        if len(jax.devices("cpu")) != cpu_devices:
            raise UserError("--cpu-devices must be set before JAX starts: set it on the "
                            "command line, not after building a model.")
    if name == "mirrored":
        devices = jax.devices("cpu") if cpu_devices else jax.devices()
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        names = ", ".join(str(d) for d in devices)
        print(f"Strategy: mirrored (keras.distribution.DataParallel), {len(devices)} replicas "
              f"({names}).")
    return _Distribution()


def input_gradient(fn, x):
    """The gradient of `sum(fn(x))` with respect to `x` (common/gradients.py):
    `jax.grad`, under `jax.jit` and inside Keras' `jax.value_and_grad` of the
    step's loss alike, where the weights `fn` reads are tracers of that outer
    transformation, so the result is differentiable with respect to them."""
    return jax.grad(lambda inputs: jax.numpy.sum(fn(inputs)))(jax.numpy.asarray(x))
