"""Keras-GAN's recipes, typed out again for Keras 3: the networks as plain
builders and the training loop as three `train_on_batch` calls, for
tests/test_recipes.py to hold each zoo model's compiled step against.

Every number here is written out as in eriklindernoren/Keras-GAN (gan/gan.py,
dcgan/dcgan.py, cgan/cgan.py, acgan/acgan.py, srgan/srgan.py): filters,
kernel sizes, BatchNormalization(momentum=0.8), LeakyReLU(0.2), the dropout
rates, Adam(0.0002, 0.5), the losses, their weights and the labels D is
shown. Nothing is read from the zoo's models, so a changed number in a model
file makes the two disagree. Where the zoo deliberately differs from
Keras-GAN and says so in its docstrings, this file follows the zoo's
documented default:

  - GAN, CGAN, ACGAN: the networks and loops of Keras-GAN's latest version
    (full batches, not the half batches of its first commits).
  - DCGAN's D real label is 1 (`real_label=1.0`, smoothing left off).
  - ConditionalDCGAN is not in Keras-GAN: CGAN's loop with the conditional
    DCGAN tutorials' networks, as cgan/cgan.py documents them.
  - SRGAN: the combined model takes the LR image only and its content loss is
    the pixel MSE of G's image (`content_loss="mse"`, for tests without
    VGG19's ImageNet weights); the upsampling convolutions have 64 filters
    (`upsample_filters`, Keras-GAN 256); no bicubic skip, no pre-training.

Two pieces are Keras 3's rather than Keras 2's, each with tests of its own:
  - one Adam per model: a Keras 3 optimizer belongs to one set of weights,
    where Keras-GAN shared one instance between D and the combined model;
  - the combined model's D is `common.frozen.frozen(D)`: Keras 2's
    `D.trainable = False` (D still normalises with the batch's statistics,
    none of its weights moves), which Keras 3's flag no longer gives.
"""
import numpy as np
from keras import layers
from keras.layers import (Activation, Add, BatchNormalization, Concatenate, Conv2D,
                          Conv2DTranspose, Dense, Dropout, Embedding, Flatten, Input,
                          LeakyReLU, Reshape, UpSampling2D, ZeroPadding2D, multiply)
from keras.models import Model, Sequential
from keras.optimizers import Adam

from common.frozen import frozen


class GAN:
    """gan/gan.py: MLPs; G's step on fresh noise."""

    def __init__(self):
        self.img_rows = 28
        self.img_cols = 28
        self.channels = 1
        self.img_shape = (self.img_rows, self.img_cols, self.channels)
        self.latent_dim = 100

        # Build and compile the discriminator
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss='binary_crossentropy',
                                   optimizer=Adam(0.0002, 0.5),
                                   metrics=['accuracy'])

        # Build the generator
        self.generator = self.build_generator()

        # The generator takes noise as input and generates imgs
        z = Input(shape=(self.latent_dim,))
        img = self.generator(z)

        # For the combined model we will only train the generator
        validity = frozen(self.discriminator)(img)

        # The combined model  (stacked generator and discriminator)
        # Trains the generator to fool the discriminator
        self.combined = Model(z, validity)
        self.combined.compile(loss='binary_crossentropy', optimizer=Adam(0.0002, 0.5))

    def build_generator(self):

        model = Sequential()

        model.add(Input(shape=(self.latent_dim,)))
        model.add(Dense(256))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Dense(512))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Dense(1024))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Dense(int(np.prod(self.img_shape)), activation='tanh'))
        model.add(Reshape(self.img_shape))

        noise = Input(shape=(self.latent_dim,))
        img = model(noise)

        return Model(noise, img)

    def build_discriminator(self):

        model = Sequential()

        model.add(Input(shape=self.img_shape))
        model.add(Flatten())
        model.add(Dense(512))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dense(256))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dense(1, activation='sigmoid'))

        img = Input(shape=self.img_shape)
        validity = model(img)

        return Model(img, validity)

    def train_step(self, imgs, noise, g_noise):
        """One pass of Keras-GAN's `for epoch in range(epochs)`, on the arrays
        it would have drawn: real images, D's noise, and G's fresh noise."""
        batch_size = len(imgs)

        # Adversarial ground truths
        valid = np.ones((batch_size, 1))
        fake = np.zeros((batch_size, 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------

        # Generate a batch of new images
        gen_imgs = self.generator.predict(noise, verbose=0)

        # Train the discriminator
        d_loss_real = self.discriminator.train_on_batch(imgs, valid)
        d_loss_fake = self.discriminator.train_on_batch(gen_imgs, fake)
        d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)

        # ---------------------
        #  Train Generator
        # ---------------------

        # Train the generator (to have the discriminator label samples as valid)
        g_loss = self.combined.train_on_batch(g_noise, valid)

        return {"d_loss": d_loss[0], "g_loss": g_loss}


class DCGAN(GAN):
    """dcgan/dcgan.py: convolutional G and D; G's step on D's noise."""

    def build_generator(self):

        model = Sequential()

        model.add(Input(shape=(self.latent_dim,)))
        model.add(Dense(128 * 7 * 7, activation="relu"))
        model.add(Reshape((7, 7, 128)))
        model.add(UpSampling2D())
        model.add(Conv2D(128, kernel_size=3, padding="same"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Activation("relu"))
        model.add(UpSampling2D())
        model.add(Conv2D(64, kernel_size=3, padding="same"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Activation("relu"))
        model.add(Conv2D(self.channels, kernel_size=3, padding="same"))
        model.add(Activation("tanh"))

        noise = Input(shape=(self.latent_dim,))
        img = model(noise)

        return Model(noise, img)

    def build_discriminator(self):

        model = Sequential()

        model.add(Input(shape=self.img_shape))
        model.add(Conv2D(32, kernel_size=3, strides=2, padding="same"))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Conv2D(64, kernel_size=3, strides=2, padding="same"))
        model.add(ZeroPadding2D(padding=((0, 1), (0, 1))))
        model.add(BatchNormalization(momentum=0.8))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Conv2D(128, kernel_size=3, strides=2, padding="same"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Conv2D(256, kernel_size=3, strides=1, padding="same"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Flatten())
        model.add(Dense(1, activation='sigmoid'))

        img = Input(shape=self.img_shape)
        validity = model(img)

        return Model(img, validity)

    def train_step(self, imgs, noise):
        batch_size = len(imgs)

        # Adversarial ground truths
        valid = np.ones((batch_size, 1))
        fake = np.zeros((batch_size, 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------

        # Sample noise and generate a batch of new images
        gen_imgs = self.generator.predict(noise, verbose=0)

        # Train the discriminator (real classified as ones and generated as zeros)
        d_loss_real = self.discriminator.train_on_batch(imgs, valid)
        d_loss_fake = self.discriminator.train_on_batch(gen_imgs, fake)
        d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)

        # ---------------------
        #  Train Generator
        # ---------------------

        # Train the generator (wants discriminator to mistake images as real)
        g_loss = self.combined.train_on_batch(noise, valid)

        return {"d_loss": d_loss[0], "g_loss": g_loss}


class CGAN:
    """cgan/cgan.py: MLPs that both read the label, multiplied in."""

    def __init__(self):
        # Input shape
        self.img_rows = 28
        self.img_cols = 28
        self.channels = 1
        self.img_shape = (self.img_rows, self.img_cols, self.channels)
        self.num_classes = 10
        self.latent_dim = 100

        # Build and compile the discriminator
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss=['binary_crossentropy'],
                                   optimizer=Adam(0.0002, 0.5),
                                   metrics=['accuracy'])

        # Build the generator
        self.generator = self.build_generator()

        # The generator takes noise and the target label as input
        # and generates the corresponding digit of that label
        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype='int32')
        img = self.generator([noise, label])

        # For the combined model we will only train the generator.
        # The discriminator takes generated image as input and determines validity
        # and the label of that image
        valid = frozen(self.discriminator)([img, label])

        # The combined model  (stacked generator and discriminator)
        # Trains generator to fool discriminator
        self.combined = Model([noise, label], valid)
        self.combined.compile(loss=['binary_crossentropy'], optimizer=Adam(0.0002, 0.5))

    def build_generator(self):

        model = Sequential()

        model.add(Input(shape=(self.latent_dim,)))
        model.add(Dense(256))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Dense(512))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Dense(1024))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Dense(int(np.prod(self.img_shape)), activation='tanh'))
        model.add(Reshape(self.img_shape))

        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype='int32')
        label_embedding = Flatten()(Embedding(self.num_classes, self.latent_dim)(label))

        model_input = multiply([noise, label_embedding])
        img = model(model_input)

        return Model([noise, label], img)

    def build_discriminator(self):

        model = Sequential()

        model.add(Input(shape=(int(np.prod(self.img_shape)),)))
        model.add(Dense(512))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dense(512))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.4))
        model.add(Dense(512))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.4))
        model.add(Dense(1, activation='sigmoid'))

        img = Input(shape=self.img_shape)
        label = Input(shape=(1,), dtype='int32')

        label_embedding = Flatten()(Embedding(self.num_classes, int(np.prod(self.img_shape)))(label))
        flat_img = Flatten()(img)

        model_input = multiply([flat_img, label_embedding])

        validity = model(model_input)

        return Model([img, label], validity)

    def train_step(self, imgs, labels, noise, sampled_labels):
        """One pass of Keras-GAN's loop: real images and their labels, the
        noise, and the labels G is asked for in its step."""
        batch_size = len(imgs)

        # Adversarial ground truths
        valid = np.ones((batch_size, 1))
        fake = np.zeros((batch_size, 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------

        # Generate a batch of new images
        gen_imgs = self.generator.predict([noise, labels], verbose=0)

        # Train the discriminator
        d_loss_real = self.discriminator.train_on_batch([imgs, labels], valid)
        d_loss_fake = self.discriminator.train_on_batch([gen_imgs, labels], fake)
        d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)

        # ---------------------
        #  Train Generator
        # ---------------------

        # Train the generator
        g_loss = self.combined.train_on_batch([noise, sampled_labels], valid)

        return {"d_loss": d_loss[0], "g_loss": g_loss}


class ConditionalDCGAN(CGAN):
    """Not in Keras-GAN: CGAN's loop with the conditional DCGAN tutorials'
    networks, as cgan/cgan.py documents them: the label embedded in 50 values
    beside G's noise, and as an extra image channel of D's."""

    def build_generator(self):

        model = Sequential()

        model.add(Input(shape=(self.latent_dim + 50,)))
        model.add(Dense(128 * 7 * 7))
        model.add(Reshape((7, 7, 128)))
        model.add(BatchNormalization(momentum=0.8))
        model.add(layers.ReLU())
        model.add(Conv2DTranspose(128, kernel_size=4, strides=2, padding="same"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(layers.ReLU())
        model.add(Conv2DTranspose(64, kernel_size=4, strides=2, padding="same"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(layers.ReLU())
        model.add(Conv2D(self.channels, kernel_size=3, padding="same", activation="tanh"))

        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype='int32')
        label_embedding = Flatten()(Embedding(self.num_classes, 50)(label))
        img = model(Concatenate()([noise, label_embedding]))

        return Model([noise, label], img)

    def build_discriminator(self):

        model = Sequential()

        model.add(Input(shape=(self.img_rows, self.img_cols, self.channels + 1)))
        model.add(Conv2D(64, kernel_size=4, strides=2, padding="same"))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Conv2D(128, kernel_size=4, strides=2, padding="same"))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Flatten())
        model.add(Dense(1, activation='sigmoid'))

        img = Input(shape=self.img_shape)
        label = Input(shape=(1,), dtype='int32')
        label_plane = Reshape((self.img_rows, self.img_cols, 1))(
            Embedding(self.num_classes, self.img_rows * self.img_cols)(label))
        validity = model(Concatenate()([img, label_plane]))

        return Model([img, label], validity)


class ACGAN:
    """acgan/acgan.py: G reads the label, D has a real/fake and a class head."""

    def __init__(self):
        # Input shape
        self.img_rows = 28
        self.img_cols = 28
        self.channels = 1
        self.img_shape = (self.img_rows, self.img_cols, self.channels)
        self.num_classes = 10
        self.latent_dim = 100

        losses = ['binary_crossentropy', 'sparse_categorical_crossentropy']

        # Build and compile the discriminator
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss=losses,
                                   optimizer=Adam(0.0002, 0.5),
                                   # Keras 3 asks for a list per output
                                   metrics=[['accuracy'], ['accuracy']])

        # Build the generator
        self.generator = self.build_generator()

        # The generator takes noise and the target label as input
        # and generates the corresponding digit of that label
        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype='int32')
        img = self.generator([noise, label])

        # For the combined model we will only train the generator.
        # The discriminator takes generated image as input and determines validity
        # and the label of that image
        valid, target_label = frozen(self.discriminator)(img)

        # The combined model  (stacked generator and discriminator)
        # Trains the generator to fool the discriminator
        self.combined = Model([noise, label], [valid, target_label])
        self.combined.compile(loss=losses, optimizer=Adam(0.0002, 0.5))

    def build_generator(self):

        model = Sequential()

        model.add(Input(shape=(self.latent_dim,)))
        model.add(Dense(128 * 7 * 7, activation="relu"))
        model.add(Reshape((7, 7, 128)))
        model.add(BatchNormalization(momentum=0.8))
        model.add(UpSampling2D())
        model.add(Conv2D(128, kernel_size=3, padding="same"))
        model.add(Activation("relu"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(UpSampling2D())
        model.add(Conv2D(64, kernel_size=3, padding="same"))
        model.add(Activation("relu"))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Conv2D(self.channels, kernel_size=3, padding='same'))
        model.add(Activation("tanh"))

        noise = Input(shape=(self.latent_dim,))
        label = Input(shape=(1,), dtype='int32')
        label_embedding = Flatten()(Embedding(self.num_classes, 100)(label))

        model_input = multiply([noise, label_embedding])
        img = model(model_input)

        return Model([noise, label], img)

    def build_discriminator(self):

        model = Sequential()

        model.add(Input(shape=self.img_shape))
        model.add(Conv2D(16, kernel_size=3, strides=2, padding="same"))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Conv2D(32, kernel_size=3, strides=2, padding="same"))
        model.add(ZeroPadding2D(padding=((0, 1), (0, 1))))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Conv2D(64, kernel_size=3, strides=2, padding="same"))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(BatchNormalization(momentum=0.8))
        model.add(Conv2D(128, kernel_size=3, strides=1, padding="same"))
        model.add(LeakyReLU(negative_slope=0.2))
        model.add(Dropout(0.25))
        model.add(Flatten())

        img = Input(shape=self.img_shape)

        # Extract feature representation
        features = model(img)

        # Determine validity and label of the image
        validity = Dense(1, activation="sigmoid")(features)
        label = Dense(self.num_classes, activation="softmax")(features)

        return Model(img, [validity, label])

    def train_step(self, imgs, img_labels, noise, sampled_labels):
        batch_size = len(imgs)

        # Adversarial ground truths
        valid = np.ones((batch_size, 1))
        fake = np.zeros((batch_size, 1))

        # ---------------------
        #  Train Discriminator
        # ---------------------

        # Generate a batch of new images
        gen_imgs = self.generator.predict([noise, sampled_labels], verbose=0)

        # Train the discriminator
        d_loss_real = self.discriminator.train_on_batch(imgs, [valid, img_labels],
                                                        return_dict=True)
        d_loss_fake = self.discriminator.train_on_batch(gen_imgs, [fake, sampled_labels],
                                                        return_dict=True)
        d_loss = 0.5 * np.add(d_loss_real["loss"], d_loss_fake["loss"])

        # ---------------------
        #  Train Generator
        # ---------------------

        # Train the generator
        g_loss = self.combined.train_on_batch([noise, sampled_labels], [valid, sampled_labels],
                                              return_dict=True)

        return {"d_loss": d_loss, "g_loss": g_loss["loss"]}


class SRGAN:
    """srgan/srgan.py: a residual G that upscales 4x, a patch D trained with the
    MSE, and G's adversarial loss weighted 1e-3 against its content loss."""

    def __init__(self, hr_shape, n_residual_blocks=16):
        # Input shape
        self.channels = 3
        self.hr_height, self.hr_width = hr_shape[:2]  # High resolution height, width
        self.lr_height = self.hr_height // 4          # Low resolution height
        self.lr_width = self.hr_width // 4            # Low resolution width
        self.lr_shape = (self.lr_height, self.lr_width, self.channels)
        self.hr_shape = (self.hr_height, self.hr_width, self.channels)

        # Number of residual blocks in the generator
        self.n_residual_blocks = n_residual_blocks

        # Calculate output shape of D (PatchGAN)
        patch = int(self.hr_height / 2**4)
        self.disc_patch = (patch, patch, 1)

        # Number of filters in the first layer of G and D
        self.gf = 64
        self.df = 64

        # Build and compile the discriminator
        self.discriminator = self.build_discriminator()
        self.discriminator.compile(loss='mse',
                                   optimizer=Adam(0.0002, 0.5),
                                   metrics=['accuracy'])

        # Build the generator
        self.generator = self.build_generator()

        # Low res. image
        img_lr = Input(shape=self.lr_shape)

        # Generate high res. version from low res.
        fake_hr = self.generator(img_lr)

        # For the combined model we will only train the generator.
        # Discriminator determines validity of generated high res. images
        validity = frozen(self.discriminator)(fake_hr)

        # The content loss compares G's image with the original pixel by pixel
        self.combined = Model(img_lr, [validity, fake_hr])
        self.combined.compile(loss=['binary_crossentropy', 'mse'],
                              loss_weights=[1e-3, 1],
                              optimizer=Adam(0.0002, 0.5))

    def build_generator(self):

        def residual_block(layer_input, filters):
            """Residual block described in paper"""
            d = Conv2D(filters, kernel_size=3, strides=1, padding='same')(layer_input)
            d = Activation('relu')(d)
            d = BatchNormalization(momentum=0.8)(d)
            d = Conv2D(filters, kernel_size=3, strides=1, padding='same')(d)
            d = BatchNormalization(momentum=0.8)(d)
            d = Add()([d, layer_input])
            return d

        def deconv2d(layer_input):
            """Layers used during upsampling"""
            u = UpSampling2D(size=2)(layer_input)
            u = Conv2D(64, kernel_size=3, strides=1, padding='same')(u)
            u = Activation('relu')(u)
            return u

        # Low resolution image input
        img_lr = Input(shape=self.lr_shape)

        # Pre-residual block
        c1 = Conv2D(64, kernel_size=9, strides=1, padding='same')(img_lr)
        c1 = Activation('relu')(c1)

        # Propogate through residual blocks
        r = residual_block(c1, self.gf)
        for _ in range(self.n_residual_blocks - 1):
            r = residual_block(r, self.gf)

        # Post-residual block
        c2 = Conv2D(64, kernel_size=3, strides=1, padding='same')(r)
        c2 = BatchNormalization(momentum=0.8)(c2)
        c2 = Add()([c2, c1])

        # Upsampling
        u1 = deconv2d(c2)
        u2 = deconv2d(u1)

        # Generate high resolution output
        gen_hr = Conv2D(self.channels, kernel_size=9, strides=1, padding='same',
                        activation='tanh')(u2)

        return Model(img_lr, gen_hr)

    def build_discriminator(self):

        def d_block(layer_input, filters, strides=1, bn=True):
            """Discriminator layer"""
            d = Conv2D(filters, kernel_size=3, strides=strides, padding='same')(layer_input)
            d = LeakyReLU(negative_slope=0.2)(d)
            if bn:
                d = BatchNormalization(momentum=0.8)(d)
            return d

        # Input img
        d0 = Input(shape=self.hr_shape)

        d1 = d_block(d0, self.df, bn=False)
        d2 = d_block(d1, self.df, strides=2)
        d3 = d_block(d2, self.df * 2)
        d4 = d_block(d3, self.df * 2, strides=2)
        d5 = d_block(d4, self.df * 4)
        d6 = d_block(d5, self.df * 4, strides=2)
        d7 = d_block(d6, self.df * 8)
        d8 = d_block(d7, self.df * 8, strides=2)

        d9 = Dense(self.df * 16)(d8)
        d10 = LeakyReLU(negative_slope=0.2)(d9)
        validity = Dense(1, activation='sigmoid')(d10)

        return Model(d0, validity)

    def train_step(self, imgs_hr, imgs_lr, g_imgs_hr, g_imgs_lr):
        """One pass of Keras-GAN's loop: a batch for D's step, the next batch
        for G's (its data loader loads one for each)."""
        batch_size = len(imgs_hr)

        # ----------------------
        #  Train Discriminator
        # ----------------------

        # From low res. image generate high res. version
        fake_hr = self.generator.predict(imgs_lr, verbose=0)

        valid = np.ones((batch_size,) + self.disc_patch)
        fake = np.zeros((batch_size,) + self.disc_patch)

        # Train the discriminators (original images = real / generated = Fake)
        d_loss_real = self.discriminator.train_on_batch(imgs_hr, valid)
        d_loss_fake = self.discriminator.train_on_batch(fake_hr, fake)
        d_loss = 0.5 * np.add(d_loss_real, d_loss_fake)

        # ------------------
        #  Train Generator
        # ------------------

        # The generators want the discriminators to label the generated images as real
        valid = np.ones((batch_size,) + self.disc_patch)

        # Train the generators
        g_loss = self.combined.train_on_batch(g_imgs_lr, [valid, g_imgs_hr], return_dict=True)

        return {"d_loss": d_loss[0], "g_loss": g_loss["loss"]}
