"""What the Wasserstein GANs share (WGAN, wgan/; WGAN-GP, wgan_gp/): the
critic's loss, and the arrays of one generator step of `n_critic` critic steps.

A critic scores images, unbounded (no sigmoid); trained on
mean(D(fake)) - mean(D(real)), the gap between its mean scores of real and
generated images estimates the Wasserstein-1 distance between the two
distributions, provided the critic is 1-Lipschitz (WGAN keeps it so by
clipping its weights, WGAN-GP by a gradient penalty).
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gan_zoo")
def wasserstein_loss(y_true, y_pred):
    """mean(y_true * score): with y_true -1 it raises the critic's score, with
    +1 lowers it (Keras-GAN's `wasserstein_loss`). Registered, so that a saved
    critic loads with its loss once this module is imported."""
    return ops.mean(y_true * y_pred, axis=-1)


def critic_batches(dataset, rng, batch_size, n_critic, latent_dim):
    """The arrays of one generator step: for each of the `n_critic` critic
    steps a batch of real images and of noise, laid out (batch_size,
    n_critic, ...) so that a step's arrays split by sample over devices;
    then fresh noise for G's step. Drawn with the numpy Generator `rng`."""
    imgs = dataset.sample(rng, batch_size * n_critic)
    imgs = imgs.reshape((batch_size, n_critic) + imgs.shape[1:])
    noise = rng.normal(0, 1, (batch_size, n_critic, latent_dim)).astype("float32")
    g_noise = rng.normal(0, 1, (batch_size, latent_dim)).astype("float32")
    return imgs, noise, g_noise
