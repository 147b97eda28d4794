"""The image pool of CycleGAN: D learns from a history of generated images.

Zhu et al. (2017, "Unpaired image-to-image translation using
cycle-consistent adversarial networks", section 4) follow Shrivastava et al.
(2017): "to reduce model oscillation ... we update the discriminators using a
history of generated images rather than the ones produced by the latest
generators. We keep an image buffer that stores the 50 previously created
images." Their code (`ImagePool.query`) does, for each generated image in
turn: while the pool is not full, store the image and give it to D; once it
is full, with probability 1/2 give D a stored image chosen at random and
store the new one in its place, else give D the new image.

`ImagePool` holds the pool as variables of a Keras model (no weights to
train, no optimizer), so that the compiled step updates it in place on every
backend and a checkpoint carries it with the networks (a model declares it in
`networks()`; common/model.py). Its random choices are drawn outside the
step, with the model's `rng`, by `draws` (one per image: the slot to swap
with, or -1 to pass the new image through), so that they repeat on every
backend and a resumed run draws what the straight run would have drawn.
"""
import keras
import numpy as np
from keras import ops

POOL_SIZE = 50  # the paper's


class ImagePool(keras.Model):
    """A pool of up to `size` images of shape `img_shape`: `query` gives D's
    images for a batch of generated ones and updates the pool."""

    def __init__(self, img_shape, size=POOL_SIZE, name="image_pool"):
        super().__init__(name=name)
        self.size = int(size)
        self.img_shape = tuple(img_shape)
        self.images = self.add_weight(shape=(self.size, *self.img_shape), initializer="zeros",
                                      trainable=False, name="images",
                                      dtype=keras.config.floatx())
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="count", dtype="int32")
        self.built = True

    def draws(self, rng, batch_size):
        """The pool's random choices for a batch, drawn with `rng`: per image
        the slot whose image D gets instead (and which the new image
        replaces) once the pool is full, or -1 (probability 1/2) for the new
        image itself. int32 (batch_size,)."""
        swap = rng.random(batch_size) < 0.5
        slots = rng.integers(0, self.size, batch_size)
        return np.where(swap, slots, -1).astype("int32")

    def query(self, images, draws):
        """D's images for the generated `images` (N, *img_shape) given their
        `draws`, image by image as the paper's code; the pool is updated."""
        images = ops.cast(images, self.images.dtype)
        draws = ops.cast(draws, "int32")
        batch = images.shape[0]  # None in a step traced for any batch size (TensorFlow)
        if batch is None:
            batch = ops.shape(images)[0]
        slots = ops.arange(self.size, dtype="int32")
        one_image = (1,) * len(self.img_shape)

        def one(i, state):  # the paper's loop body, for image i
            pool, count, given = state
            image, draw = ops.take(images, i, axis=0), ops.take(draws, i)
            full = count >= self.size
            take_stored = ops.logical_and(full, draw >= 0)
            slot = ops.where(full, ops.maximum(draw, 0), ops.minimum(count, self.size - 1))
            out = ops.where(take_stored, ops.take(pool, slot, axis=0), image)
            given = ops.where(ops.reshape(ops.equal(ops.arange(batch), i), (-1, *one_image)),
                              out[None], given)
            store = ops.logical_and(ops.equal(slots, slot),
                                    ops.logical_or(take_stored, ops.logical_not(full)))
            pool = ops.where(ops.reshape(store, (self.size, *one_image)), image[None], pool)
            return pool, ops.minimum(count + 1, self.size), given

        state = (self.images.value, self.count.value, images)
        if isinstance(batch, int):  # unrolled: twice as fast as a loop op on TensorFlow
            for i in range(batch):
                state = one(i, state)
        else:
            state = ops.fori_loop(0, batch, one, state)
        pool, count, given = state
        self.images.assign(pool)
        self.count.assign(count)
        return given

    def call(self, inputs):
        """Not a layer of a model: the step calls `query`."""
        raise NotImplementedError("ImagePool is queried with pool.query(images, draws)")


def query_numpy(pool, count, images, draws):
    """`ImagePool.query` in NumPy, for references and tests: returns (D's
    images, the new pool, the new count)."""
    pool, given = np.array(pool, copy=True), []
    for image, draw in zip(images, draws):
        if count < len(pool):
            pool[count] = image
            count += 1
            given.append(image)
        elif draw >= 0:
            given.append(pool[draw].copy())
            pool[draw] = image
        else:
            given.append(image)
    return np.stack(given), pool, count
