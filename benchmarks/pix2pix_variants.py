"""Pix2Pix recipes measured against pix2pix.py's on folders of
benchmarks/pix2pix_folders.py, for docs/results.md ("Pix2Pix"): D with fewer
strided layers (smaller patches) and G trained with another weight on the
adversarial term (0: L1 alone). Everything else is the command line's
default (64x64, batch 4, gf and df 32, --input-skip, precision auto):

    python benchmarks/pix2pix_variants.py /tmp/p2p/mild --d-layers 3 --seed 0 --out /tmp/p2p/mild_d3
    python benchmarks/pix2pix_variants.py /tmp/p2p/mild --adversarial-weight 0 --out /tmp/p2p/mild_l1

Scores go to <out>/history.csv as with pix2pix.py. None of these is a model of the zoo.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/


def _main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--d-layers", type=int, default=4,
                        help="D's strided layers (pix2pix.py and Keras-GAN: 4, 16x smaller patches)")
    parser.add_argument("--adversarial-weight", type=float, default=1.0,
                        help="weight of G's adversarial term beside L1's 100 (the recipe: 1)")
    parser.add_argument("--gf", type=int, default=32, help="filters of G's and D's first layers")
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    from common.cli import tensorflow_chatter_hidden
    with tensorflow_chatter_hidden():  # as quiet as the training scripts
        import keras
        from keras import layers
        from keras.layers import Input
        from keras.models import Model

        from common import paired
        from pix2pix.pix2pix import Pix2Pix

    class Pix2PixVariant(Pix2Pix):
        def build_discriminator(self):
            # Keras-GAN's d_layer, args.d_layers of them instead of 4.
            img_A, img_B = Input(shape=self.img_shape), Input(shape=self.img_shape)
            x = layers.Concatenate(axis=-1)([img_A, img_B])
            for i in range(args.d_layers):
                x = layers.Conv2D(self.df * 2 ** i, kernel_size=4, strides=2, padding="same")(x)
                x = layers.LeakyReLU(negative_slope=0.2)(x)
                if i > 0:
                    x = layers.BatchNormalization(momentum=0.8)(x)
            self.disc_patch = (self.img_rows // 2 ** args.d_layers,
                               self.img_cols // 2 ** args.d_layers, 1)
            validity = layers.Conv2D(1, kernel_size=4, strides=1, padding="same")(x)
            return Model([img_A, img_B], validity, name="discriminator")

    dataset = paired.load_paired(args.folder, img_size=64)
    gan = Pix2PixVariant(img_shape=dataset.shape, gf=args.gf, df=args.gf, dataset=dataset,
                         out_dir=args.out, input_skip=True, precision="auto", seed=args.seed)
    if args.adversarial_weight != 1.0:
        gan.combined.compile(loss=["mse", "mae"], loss_weights=[args.adversarial_weight, 100],
                             optimizer=keras.optimizers.Adam(0.0002, 0.5))
    gan.train(args.epochs, 4, 400, quiet=True)


def main():
    from common.cli import run_cli
    run_cli(_main)()  # a wrong folder is one sentence and exit status 2


if __name__ == "__main__":
    main()
