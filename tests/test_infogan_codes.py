"""InfoGAN's saved generator in the commands: common.generate and
common.metrics draw its one input as it trained (noise, a one-hot
categorical code, continuous codes), as the codes.json beside it says."""
import json

import keras
import numpy as np
import pytest
from keras import layers

from conftest import call_main
from common import evaluation, generate
from common.errors import UserError

CODES = {"noise": 6, "categorical": 4, "continuous": 2}


@pytest.fixture
def infogan_generator(tmp_path):
    """A stand-in for InfoGAN's saved generator: 12 input values, a 28x28
    digit out, and codes.json beside it."""
    folder = tmp_path / "saved_model"
    folder.mkdir()
    inputs = keras.Input((sum(CODES.values()),))
    image = layers.Reshape((28, 28, 1))(layers.Dense(784, activation="tanh")(inputs))
    keras.Model(inputs, image).save(folder / "generator.keras")
    (folder / evaluation.CODES_FILE).write_text(json.dumps(CODES))
    return folder / "generator.keras"


def test_generator_input_lays_out_noise_one_hot_code_and_continuous_codes():
    rng = np.random.default_rng(0)
    batch = evaluation.generator_input(rng, 4000, 12, CODES)
    noise, code, continuous = batch[:, :6], batch[:, 6:10], batch[:, 10:]
    assert batch.shape == (4000, 12) and batch.dtype == np.float32
    assert set(np.unique(code)) == {0.0, 1.0} and (code.sum(axis=1) == 1).all()
    np.testing.assert_allclose(code.mean(axis=0), 0.25, atol=0.03)  # uniform over the values
    assert continuous.min() >= -1 and continuous.max() <= 1 and continuous.std() > 0.5
    # the noise uniform in [-1, 1], as InfoGAN trains on it (a normal's std would be 1)
    assert noise.min() >= -1 and noise.max() <= 1
    assert abs(noise.mean()) < 0.05 and noise.std() == pytest.approx(3 ** -0.5, abs=0.02)
    chosen = evaluation.generator_input(rng, 5, 12, CODES, categorical=np.full(5, 2))
    assert (chosen[:, 8] == 1).all() and chosen[:, 6:10].sum() == 5
    plain = evaluation.generator_input(rng, 5, 12)
    assert len(np.unique(plain)) == 60  # noise only: no one-hot zeros


def test_generate_draws_the_code_value_asked_for(tmp_path, infogan_generator, monkeypatch):
    seen = []
    real = generate.generate
    monkeypatch.setattr(generate, "generate",
                        lambda model, noise, labels=None: seen.append(noise) or real(model, noise))
    result = call_main(generate.main, infogan_generator, "--class", "3", "--n", "6",
                       "--out", tmp_path / "threes.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (seen[0][:, 6 + 3] == 1).all() and seen[0][:, 6:10].sum() == 6
    result = call_main(generate.main, infogan_generator, "--out", tmp_path / "grid.png",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    codes_drawn = seen[1][:, 6:10].argmax(axis=1)
    assert list(codes_drawn[:4]) == [0, 1, 2, 3]  # one column per code value
    assert (tmp_path / "grid.png").is_file()


def test_metrics_draw_codes_as_in_training(infogan_generator, monkeypatch):
    model = keras.saving.load_model(infogan_generator)
    codes = evaluation.saved_codes(str(infogan_generator), model)
    assert codes == CODES
    images, labels = evaluation.generate(model, 50, codes=codes, seed=1)
    assert images.shape == (50, 28, 28, 1) and labels is None
    # the same images as G's own input drawn by generator_input from that seed
    expected = model(evaluation.generator_input(np.random.default_rng(1), 50, 12, codes))
    np.testing.assert_allclose(images, keras.ops.convert_to_numpy(expected), atol=1e-5)


def test_a_codes_file_of_another_generator_is_named(infogan_generator):
    model = keras.saving.load_model(infogan_generator)
    codes_file = infogan_generator.parent / evaluation.CODES_FILE
    codes_file.write_text(json.dumps({"noise": 62, "categorical": 10, "continuous": 2}))
    with pytest.raises(UserError, match="lays out 74 input values, but .* takes 12"):
        evaluation.saved_codes(str(infogan_generator), model)
    codes_file.write_text("{not json")
    with pytest.raises(UserError, match="could not be read as that"):
        evaluation.saved_codes(str(infogan_generator), model)
    codes_file.unlink()
    assert evaluation.saved_codes(str(infogan_generator), model) is None


def test_the_training_evaluator_scores_infogan_with_its_codes(monkeypatch):
    from infogan.infogan import INFOGAN
    passed = {}

    def fake_score(generator, n, classifier, codes=None, **kwargs):
        passed["codes"] = codes
        return {"frechet_distance": 1.0, "mnist_score": 1.0, "classes": 10}

    monkeypatch.setattr(evaluation, "score_generator", fake_score)

    class Stand(INFOGAN):
        def __init__(self):  # no networks: only what the evaluator reads
            self.latent_dim, self.num_classes, self.continuous_dim = 62, 10, 2
            self.generator = keras.Sequential([keras.Input((74,)), layers.Dense(784),
                                               layers.Reshape((28, 28, 1))])

    evaluation.training_evaluator(n=10, classifier=object())(Stand())
    assert passed["codes"] == {"noise": 62, "categorical": 10, "continuous": 2}


def test_walk_glides_through_uniform_noise_each_walker_keeping_its_code(monkeypatch):
    seen = []
    monkeypatch.setattr(generate, "generate", lambda model, noise, labels=None:
                        seen.append(noise) or np.zeros((len(noise), 28, 28, 1), "float32"))
    frames = generate.latent_walk(None, 12, False, np.random.default_rng(0), walkers=4, stops=2,
                                  frames_per_stop=3, codes=CODES)
    assert len(frames) == 6
    drawn = np.concatenate(seen)
    noise, code, continuous = drawn[:, :6], drawn[:, 6:10], drawn[:, 10:]
    # inside InfoGAN's cube [-1, 1], where a slerp between normal points would leave it
    assert noise.min() >= -1 and noise.max() <= 1 and noise.std() > 0.3
    np.testing.assert_array_equal(code.argmax(axis=1), np.tile(np.arange(4), 6))
    assert not continuous.any()
