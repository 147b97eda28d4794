"""Bicubic upscaling by a whole factor, computed the same way on every backend.

Keras' `UpSampling2D(interpolation="bicubic")` calls each backend's own resize:
TensorFlow's and JAX's use Keys' cubic kernel (a = -0.5) and, at the borders,
drop the samples outside the image and renormalise the others; PyTorch's uses
a = -0.75 and repeats the border pixels. A saved SRGAN generator then gave
other images on PyTorch (up to 0.15 apart on [-1, 1]). `BicubicUpSampling2D`
computes TensorFlow's resize (`tf.image.resize(..., "bicubic")`, half-pixel
centres, no antialiasing) with keras.ops on all three.

The layer is a registered Keras object: a model holding it loads after
`import common.bicubic` (the zoo's loaders import it), as for any custom layer.
Files saved with Keras' UpSampling2D before this layer existed load as they are.
"""
import keras
import numpy as np
from keras import ops

# Keys (1981), "Cubic convolution interpolation for digital image processing":
# a = -0.5 is TensorFlow's and JAX's bicubic.
KEYS_A = -0.5


def keys_cubic(distance, a=KEYS_A):
    """Keys' cubic convolution kernel at `distance` (array, in input pixels)."""
    x = np.abs(np.asarray(distance, dtype=np.float64))
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def upscaling_taps(factor):
    """The weights of the five input pixels j-2 .. j+2 for each of the `factor`
    output pixels factor*j + r that sit on input pixel j: (factor, 5). Output
    pixel o samples the input at (o + 0.5) / factor - 0.5 (half-pixel centres)."""
    offsets = (np.arange(factor) + 0.5) / factor - 0.5
    return keys_cubic(offsets[:, None] - np.arange(-2, 3)[None, :])


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
class BicubicUpSampling2D(keras.layers.Layer):
    """Bicubic upscaling of images (N, H, W, C) by `factor` to (N, factor*H,
    factor*W, C), equal to TensorFlow's `tf.image.resize` on every backend."""

    def __init__(self, factor=4, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)
        self._taps = upscaling_taps(self.factor).tolist()

    def _upscale_axis(self, images, axis):
        """Each output pixel a weighted sum of the five input pixels around it;
        samples outside the image count zero and the weights of the others are
        divided by their sum (so a border pixel is not repeated)."""
        padding = [(0, 0)] * 4
        padding[axis] = (2, 2)
        padded = ops.pad(images, padding)
        # Ones in the image, zeros outside: the sum of the weights each output uses.
        along_axis = [slice(0, 1)] * 4
        along_axis[axis] = slice(None)
        inside = ops.pad(ops.ones_like(images[tuple(along_axis)]), padding)
        size = ops.shape(images)[axis]

        def shifted(tensor, offset):  # tensor[j + offset - 2] along `axis`, j in 0..size-1
            index = [slice(None)] * 4
            index[axis] = slice(offset, offset + size)
            return tensor[tuple(index)]

        phases = []
        for taps in self._taps:
            total = sum(w * shifted(padded, k) for k, w in enumerate(taps) if w != 0)
            weight = sum(w * shifted(inside, k) for k, w in enumerate(taps) if w != 0)
            phases.append(total / weight)
        interleaved = ops.stack(phases, axis=axis + 1)  # (.., size, factor, ..)
        shape = ops.shape(images)
        new_shape = [-1, shape[1], shape[2], shape[3]]
        new_shape[axis] = size * self.factor
        return ops.reshape(interleaved, new_shape)

    def call(self, images):
        return self._upscale_axis(self._upscale_axis(images, 1), 2)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, None if height is None else height * self.factor,
                None if width is None else width * self.factor, channels)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}
