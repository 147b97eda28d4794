"""The frozen discriminator inside the combined model, with Keras 2 semantics.

Keras-GAN builds `combined = Model(z, D(G(z)))` after `D.trainable = False`
and trains G with `combined.train_on_batch`. On Keras 3 that flag is read at
every step, so the discriminator's own `train_on_batch` then trains nothing
(only a warning), and it also switches D's BatchNormalization to its moving
statistics. Keras-GAN's recipes were tuned on Keras 2, where the frozen D still
normalised with the batch's statistics (training mode) and only its weights
and moving statistics stayed put; with Keras 3's semantics the DCGAN recipe
collapses to one or two digits.

`frozen(discriminator)` gives a layer that runs D in training mode (batch
statistics, dropout) through `stateless_call`, so none of D's weights and none
of its moving statistics is written, and that owns no weights of its own, so
the combined model's trainable weights are G's alone. D itself stays
trainable: `discriminator.train_on_batch` keeps training it.

The layer is a registered Keras object: `combined.save("x.keras")` writes D's
architecture (in the layer's config) and D's weights (as the layer's own
variables in the file), so `keras.models.load_model`, `get_config` and
`keras.models.clone_model` work on the combined model like on any other
(import common.frozen first, as for any custom layer).
"""
import keras

from common import private


class _Untracked:
    """Holds a model without Keras tracking it as a sub-layer (so its weights
    are not counted, or trained, as the combined model's)."""

    def __init__(self, model):
        self.model = model


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class FrozenDiscriminator(keras.layers.Layer):
    """`discriminator` as a layer with no weights that never changes its state."""

    def __init__(self, discriminator, **kwargs):
        kwargs.setdefault("name", f"frozen_{discriminator.name}")
        super().__init__(**kwargs)
        self._held = _Untracked(discriminator)
        # On JAX, Keras jits a model's own train_on_batch over that model's
        # variables only: D's would be compiled in as constants and the
        # combined model would train G against the D of its first call. So
        # `combined.train_on_batch` runs unjitted there (Keras reads this flag
        # when the combined model is compiled); the zoo's own step is jitted
        # over every variable (common/backends/jax.py).
        self.supports_jit = keras.backend.backend() != "jax"

    @property
    def discriminator(self):
        return self._held.model

    def call(self, inputs, training=False):
        discriminator = self.discriminator
        if not training:
            return discriminator(inputs, training=False)
        outputs, new_state = discriminator.stateless_call(
            [v.value for v in discriminator.trainable_variables],
            [v.value for v in discriminator.non_trainable_variables],
            inputs, training=True)
        # Of the new state keep only the random-seed counters (so dropout
        # masks differ from step to step); the BatchNorm moving statistics
        # computed on this batch are thrown away.
        weights = {id(v) for v in discriminator.non_trainable_weights}
        for variable, value in zip(discriminator.non_trainable_variables, new_state):
            if id(variable) not in weights:
                _assign_past_inner_scopes(variable, value)
        return outputs

    def compute_output_spec(self, inputs, training=False):
        return self.discriminator.compute_output_spec(inputs)

    # Saving and loading: D's architecture goes in the config, D's weights are
    # written as this layer's own variables (they are not tracked as its
    # weights, so that training the combined model never updates them).

    def get_config(self):
        config = super().get_config()
        config["discriminator"] = keras.saving.serialize_keras_object(self.discriminator)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        discriminator = keras.saving.deserialize_keras_object(
            config.pop("discriminator"), custom_objects=custom_objects)
        return cls(discriminator, **config)

    def save_own_variables(self, store):
        for i, variable in enumerate(self.discriminator.weights):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        weights = self.discriminator.weights
        if len(store.keys()) != len(weights):
            raise ValueError(f"{self.name}: the file holds {len(store.keys())} discriminator "
                             f"weights, this discriminator has {len(weights)}.")
        for i, variable in enumerate(weights):
            variable.assign(store[str(i)])


def _assign_past_inner_scopes(variable, value):
    """`variable.assign(value)`, also from inside another model's stateless call.

    On JAX the combined model's train step runs through `stateless_call`,
    whose scope holds the combined model's variables only: an assignment to
    one of D's there would be dropped when that scope closes. So the value
    goes to the nearest enclosing scope that holds the variable, or to the
    variable itself. On JAX it is written to the variable only when the
    variable already holds a traced value (inside the zoo's jitted step,
    common/backends/jax.py) or the value is an array: a traced value must
    never outlive its trace; then the counter simply does not advance."""
    innermost = scope = private.stateless_scope()
    while scope is not None and scope.get_current_value(variable) is None:
        scope = scope.original_scope
    if innermost is None or scope is innermost:
        variable.assign(value)
    elif scope is not None:
        scope.add_update((variable, value))
    elif keras.backend.backend() != "jax" or _may_hold(variable, value):
        with private.outside_stateless_scopes(innermost):
            variable.assign(value)


def _may_hold(variable, value):
    return not private.is_jax_tracer(value) or private.is_jax_tracer(private.raw_value(variable))


def frozen(discriminator):
    """The layer to put after G in the combined model: D, frozen the Keras 2 way."""
    return FrozenDiscriminator(discriminator)
