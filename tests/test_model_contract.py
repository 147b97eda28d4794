"""The contract between a model and common/ (common/model.py): common/ walks
the networks a model declares, any number of them, and writes no attribute
onto the model that the contract does not declare."""
import os
import sys

import keras
import numpy as np
import pytest
from keras import layers

from common import checkpoints
from common.data import ArrayImages
from common.errors import UserError
from common.model import GANModel
from common.run_state import run_state, undeclared_trained_networks
from common.step import train_on_batch
from tiny import (TinyACGAN, TinyCycleGAN, TinyDCGAN, TinyGAN, TinyPix2Pix, TinySRGAN,
                  TinyWGANGP, paired_photos, unpaired_images)

COMMON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common")


def digits(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return ArrayImages(rng.uniform(-1, 1, (n, 28, 28, 1)).astype("float32"))


def watched(cls):
    """`cls` with every attribute set or deleted from a file of common/ recorded."""
    class Watched(cls):
        def __setattr__(self, name, value):
            self._note(name)
            super().__setattr__(name, value)

        def __delattr__(self, name):
            self._note(name)
            super().__delattr__(name)

        def _note(self, name):
            caller = sys._getframe(2).f_code.co_filename
            if os.path.abspath(caller).startswith(COMMON + os.sep):
                written = self.__dict__.setdefault("_written_by_common", set())
                written.add((name, os.path.relpath(caller, COMMON)))

    Watched.__name__ = cls.__name__
    return Watched


def declared(gan):
    """What the contract lets common/ set: GANModel's own names, out_dir and
    rng, and the model's sample arrays (restored from a checkpoint)."""
    return set(vars(GANModel)) | {"out_dir", "rng"} | set(gan.sample_arrays)


def _srgan(**kwargs):
    from common.photos import HighResPhotos
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 256, (48, 48, 3)).astype("uint8") for _ in range(4)]
    return TinySRGAN(hr_shape=(32, 32, 3), dataset=HighResPhotos(photos[:3], photos[3:], hr_size=32),
                     content_loss="mse", pretrain_steps=1, **kwargs)


def _infogan(**kwargs):
    from test_infogan import TinyINFOGAN
    return watched(TinyINFOGAN)(dataset=digits(), **kwargs)


MODELS = {
    "gan": lambda **kw: watched(TinyGAN)(dataset=digits(), **kw),
    "dcgan": lambda **kw: watched(TinyDCGAN)(dataset=digits(), **kw),
    "acgan": lambda **kw: watched(TinyACGAN)(
        dataset=(np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32"),
                 np.arange(64) % 10), **kw),
    "wgan_gp": lambda **kw: watched(TinyWGANGP)(dataset=digits(), **kw),
    "infogan": _infogan,
    "pix2pix": lambda **kw: watched(TinyPix2Pix)(dataset=paired_photos(), **kw),
    "cyclegan": lambda **kw: watched(TinyCycleGAN)(dataset=unpaired_images(), **kw),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_common_writes_no_undeclared_attribute_onto_the_model(tmp_path, name):
    gan = MODELS[name](out_dir=str(tmp_path), seed=0)
    vars(gan).pop("_written_by_common", None)
    gan.train(epochs=2, batch_size=4, sample_interval=1, quiet=True)
    gan.train(epochs=1, batch_size=4, sample_interval=1, quiet=True)  # the same run goes on
    again = MODELS[name](out_dir=str(tmp_path), seed=1)
    vars(again).pop("_written_by_common", None)
    again.train(epochs=4, batch_size=4, sample_interval=1, quiet=True, resume=True)
    for model in (gan, again):
        written = vars(model).get("_written_by_common", set())
        undeclared = sorted((attr, where) for attr, where in written if attr not in declared(model))
        assert not undeclared, f"common/ wrote undeclared attributes: {undeclared}"
    # ... and it did write the declared ones it keeps: the sample noise came
    # from the checkpoint (the image-to-image models' grids show fixed test images).
    if "sample_noise" in again.sample_arrays:
        assert ("sample_noise", "checkpoints.py") in vars(again)["_written_by_common"]
    assert run_state(again).run_config["batch_size"] == 4
    assert run_state(again).compiled_step is not None


def test_srgan_declares_srresnet_and_vgg_and_common_walks_them(tmp_path):
    gan = _srgan(out_dir=str(tmp_path), seed=0)
    assert list(gan.networks()) == ["generator", "discriminator", "combined", "srresnet"]
    assert gan.fixed_networks() == {}  # the pixel loss: no VGG19 to run
    # Its SRResNet shares the combined model's optimizer: one entry in the checkpoint.
    assert [opt for opt, _ in checkpoints._optimizers(gan)] == [gan.discriminator.optimizer,
                                                                gan.combined.optimizer]


def test_cyclegan_declares_its_four_networks_combined_model_and_pools(tmp_path):
    """Seven networks: common/ checkpoints, compiles and restores each, the
    pools' images and counts with the rest; without a pool, five."""
    gan = TinyCycleGAN(dataset=unpaired_images(), out_dir=str(tmp_path), seed=0)
    assert list(gan.networks()) == ["g_AB", "g_BA", "d_A", "d_B", "combined", "pool_A", "pool_B"]
    assert undeclared_trained_networks(gan) == []
    assert [opt for opt, _ in checkpoints._optimizers(gan)] == [
        gan.d_A.optimizer, gan.d_B.optimizer, gan.combined.optimizer]
    paths = [v.path for v in checkpoints._state_variables(gan)]
    for pool in ("pool_A", "pool_B"):
        assert {f"{pool}/images", f"{pool}/count"} <= set(paths), paths
    assert gan.precision_networks() == [gan.g_AB, gan.g_BA, gan.d_A, gan.d_B]
    without = TinyCycleGAN(dataset=unpaired_images(), out_dir=str(tmp_path), seed=0, pool_size=0)
    assert list(without.networks()) == ["g_AB", "g_BA", "d_A", "d_B", "combined"]


class ThreeNetworkGAN(TinyGAN):
    """TinyGAN with a third trained network, an encoder from images back to
    the noise (as BiGAN's or InfoGAN's Q), trained in the same step with its
    own optimizer; `declare` says whether the model declares it."""
    declare = True

    def __init__(self, **kwargs):
        # Built first: GAN's __init__ ends with use_precision, which walks
        # networks(); so before the seed is set: its own seeded initializer.
        self.encoder = keras.Sequential([
            keras.Input((28, 28, 1)), layers.Flatten(),
            layers.Dense(100, kernel_initializer=keras.initializers.GlorotUniform(seed=0))],
            name="encoder")
        self.encoder.compile(loss="mse", optimizer=keras.optimizers.Adam(0.01))
        super().__init__(**kwargs)

    def networks(self):
        if not self.declare:
            return super().networks()
        return {**super().networks(), "encoder": self.encoder}

    def saved_networks(self, final):
        return {**super().saved_networks(final), **({"encoder": self.encoder} if final else {})}

    def train_step(self, imgs, noise, g_noise):
        logs = super().train_step(imgs, noise, g_noise)
        gen_imgs = self.generator(noise, training=False)
        logs["e_loss"] = train_on_batch(self.encoder, gen_imgs, noise)["loss"]
        return logs


def test_a_third_network_resumes_exactly_when_declared(tmp_path):
    cls = ThreeNetworkGAN
    straight = cls(dataset=digits(), out_dir=str(tmp_path / "straight"), seed=3)
    straight.train(epochs=4, batch_size=8, sample_interval=2, quiet=True)
    first = cls(dataset=digits(), out_dir=str(tmp_path / "resumed"), seed=3)
    first.train(epochs=2, batch_size=8, sample_interval=2, quiet=True)
    second = cls(dataset=digits(), out_dir=str(tmp_path / "resumed"), seed=4)
    second.train(epochs=4, batch_size=8, sample_interval=2, quiet=True, resume=True)

    for network in ("encoder", "generator", "discriminator"):
        for a, b in zip(getattr(straight, network).get_weights(),
                        getattr(second, network).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=network)
    saved = tmp_path / "resumed" / "saved_model" / "encoder.keras"
    assert keras.saving.load_model(saved).output_shape == (None, 100)
    paths = checkpoints.read_meta(str(tmp_path / "resumed"))["paths"]
    assert any(path.startswith("encoder/") for path in paths)
    # its optimizer's state too (Adam's moments of the encoder's two weights, ...)
    assert all(v.path in paths for v in second.encoder.optimizer.variables)


def test_a_trained_network_left_undeclared_is_refused_before_training(tmp_path):
    """Undeclared, the encoder would train without being checkpointed (on
    TensorFlow and PyTorch: a resumed run silently starts it afresh; on JAX
    its variables would keep the jitted step's tracers)."""
    undeclared = type("Undeclared", (ThreeNetworkGAN,), {"declare": False})
    gan = undeclared(dataset=digits(), out_dir=str(tmp_path), seed=3)
    with pytest.raises(UserError, match=r"^Undeclared holds encoder, compiled with an optimizer "
                                        r"but not among its networks\(\)"):
        gan.train(epochs=2, batch_size=8, sample_interval=2, quiet=True)
    assert not (tmp_path / "checkpoints").exists()


def test_a_model_that_forgets_a_method_is_told_which(tmp_path):
    class NoStep(GANModel):
        pass
    with pytest.raises(NotImplementedError, match="NoStep must define train_step"):
        NoStep(out_dir=str(tmp_path)).train_step()
