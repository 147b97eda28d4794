"""The MNIST metrics: the maths on cases with known answers, the cached
classifier, and the scoring command as a user runs it."""
import json
import os

import keras
import numpy as np
import pytest

from common import classifier, evaluation, metrics, scores
from conftest import call_main


# ---------------------------------------------------------------------------
# Fréchet distance
# ---------------------------------------------------------------------------

def test_frechet_distance_of_identical_sets_is_about_zero():
    features = np.random.default_rng(0).normal(size=(500, 16))
    assert abs(scores.frechet_distance(features, features)) < 1e-6


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    # For diagonal covariances the formula reduces to
    # ||mu1 - mu2||^2 + sum_i (sqrt(s1_i) - sqrt(s2_i))^2.
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, -1.0, 0.5])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    exact = scores.frechet_distance_from_statistics(mu1, np.diag(var1), mu2, np.diag(var2))
    assert exact == pytest.approx(expected, rel=1e-9)

    rng = np.random.default_rng(1)
    a = rng.normal(mu1, np.sqrt(var1), size=(200_000, 3))
    b = rng.normal(mu2, np.sqrt(var2), size=(200_000, 3))
    assert scores.frechet_distance(a, b) == pytest.approx(expected, rel=0.01)


def test_frechet_distance_with_equal_covariances_is_the_squared_mean_difference():
    rng = np.random.default_rng(2)
    root = rng.normal(size=(5, 5))
    sigma = root @ root.T  # a full, non-diagonal covariance
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    assert scores.frechet_distance_from_statistics(mu1, sigma, mu2, sigma) == pytest.approx(
        np.sum((mu1 - mu2) ** 2), rel=1e-6, abs=1e-8)


def test_frechet_distance_survives_features_that_never_fire():
    # Dead ReLU units give constant features and singular covariances.
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(400, 6)), rng.normal(size=(400, 6))
    a[:, :3] = 0.0
    b[:, :3] = 0.0
    distance = scores.frechet_distance(a, b)
    assert np.isfinite(distance) and -1e-6 < distance < 0.2


# ---------------------------------------------------------------------------
# MNIST score, classes, conditional accuracy
# ---------------------------------------------------------------------------

def one_hot(classes, k=10):
    return np.eye(k)[np.asarray(classes)]


def test_mnist_score_of_confident_balanced_digits_is_ten():
    assert scores.mnist_score(one_hot(np.arange(1000) % 10)) == pytest.approx(10.0)


def test_mnist_score_of_one_class_only_is_one():
    assert scores.mnist_score(one_hot(np.full(100, 7))) == pytest.approx(1.0)


def test_mnist_score_of_unsure_images_is_one():
    assert scores.mnist_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_mnist_score_counts_balanced_confident_classes():
    assert scores.mnist_score(one_hot(np.arange(100) % 4)) == pytest.approx(4.0)


def test_mnist_score_matches_the_kl_formula_on_a_small_table():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    marginal = p.mean(axis=0)
    kl = [np.sum(row * np.log(row / marginal)) for row in p]
    assert scores.mnist_score(p) == pytest.approx(np.exp(np.mean(kl)))


def test_count_classes_ignores_classes_below_the_minimum_share():
    # 1,000 images: digit 3 gets 2% (counts), digit 5 gets 1% (does not).
    classes = np.concatenate([np.zeros(970, int), np.full(20, 3), np.full(10, 5)])
    assert scores.count_classes(one_hot(classes)) == 2
    assert scores.count_classes(one_hot(classes), min_share=0.01) == 3
    assert scores.count_classes(one_hot(np.arange(100) % 10)) == 10


def test_conditional_accuracy_is_the_share_read_as_requested():
    labels = np.arange(10).reshape(-1, 1)
    predicted = np.array([0, 1, 2, 3, 4, 5, 6, 7, 0, 0])
    assert scores.conditional_accuracy(one_hot(predicted), labels) == pytest.approx(0.8)


def test_held_out_split_is_stratified_and_fixed():
    labels = np.arange(5000) % 10
    train, held = classifier.split_held_out(labels, 1000, seed=0)
    assert np.bincount(labels[held]).tolist() == [100] * 10
    assert len(np.intersect1d(train, held)) == 0 and len(train) + len(held) == 5000
    assert np.array_equal(held, classifier.split_held_out(labels, 1000, seed=0)[1])


# ---------------------------------------------------------------------------
# The cached classifier and the command
# ---------------------------------------------------------------------------

REBUILT = {"epochs": 1, "train_digits": 200}  # a rebuild, its accuracy not looked at


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """No test reads or writes the user's real classifier cache."""
    monkeypatch.setenv(classifier.CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture
def tiny_cache(classifier_cache):
    """The session's classifier, trained briefly on 1,000 digits (tests/conftest.py)."""
    return classifier_cache


def test_classifier_is_cached_with_its_held_out_accuracy(tiny_cache, monkeypatch):
    with open(os.path.join(tiny_cache, "mnist_classifier.json")) as handle:
        info = json.load(handle)
    assert info["version"] == classifier.CLASSIFIER_VERSION
    assert info["train_digits"] == 1000 and info["held_out_digits"] == 1000
    assert 0.5 < info["held_out_accuracy"] <= 1.0  # 32 steps: far above chance (0.1)
    assert "MNIST" in info["data_source"] or "mnist" in info["data_source"]
    # The real-vs-real row is the scores of those held-out digits: 1,000 of
    # them, at that accuracy, the predictions spread over the digits (all ten
    # for the real classifier; this one of 32 steps, trained from another
    # random start on each backend, may give one digit under 2% of them).
    real = info["real_vs_real"]
    assert real["n"] == 1000 and round(real["conditional_accuracy"], 4) == info["held_out_accuracy"]
    assert real["classes"] >= 9 and max(real["class_shares"]) < 0.3

    def no_training(*args, **kwargs):
        raise AssertionError("a valid cache must not be trained again")
    monkeypatch.setattr(classifier, "build_classifier", no_training)
    loaded = classifier.load_classifier(tiny_cache)
    features, probabilities = loaded.features_and_probabilities(np.zeros((3, 28, 28, 1)))
    assert features.shape == (3, 128) and probabilities.shape == (3, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_corrupt_cache_is_rebuilt_leaving_global_random_state_alone(tmp_path, capsys):
    folder = str(tmp_path / "corrupt")
    os.makedirs(folder)
    with open(os.path.join(folder, "mnist_classifier.json"), "w") as handle:
        handle.write("{not json")
    keras.utils.set_random_seed(5)
    expected = keras.random.uniform((3,)), np.random.random(3)
    keras.utils.set_random_seed(5)
    loaded = classifier.load_classifier(folder, **REBUILT)
    assert "unreadable" in capsys.readouterr().out
    assert loaded.info["train_digits"] == 200
    with open(os.path.join(folder, "mnist_classifier.json")) as handle:
        assert json.load(handle)["version"] == classifier.CLASSIFIER_VERSION
    # Training the classifier in the middle of a GAN run must not shift the
    # run's random numbers (dropout masks, data order).
    assert np.allclose(keras.random.uniform((3,)), expected[0])
    assert np.allclose(np.random.random(3), expected[1])


def tiny_generator(conditional=False, latent_dim=8):
    noise = keras.Input(shape=(latent_dim,))
    x = noise
    inputs = [noise]
    if conditional:
        label = keras.Input(shape=(1,), dtype="int32")
        x = keras.layers.Concatenate()([x, keras.layers.Flatten()(
            keras.layers.Embedding(10, latent_dim)(label))])
        inputs.append(label)
    img = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(x))
    return keras.Model(inputs if conditional else noise, img)


def test_score_generator_balances_labels_for_a_conditional_generator(tiny_cache):
    loaded = classifier.load_classifier(tiny_cache)
    generator = tiny_generator(conditional=True)
    images, labels = evaluation.generate(generator, 200)
    assert images.shape == (200, 28, 28, 1)
    assert np.bincount(labels).tolist() == [20] * 10
    scored = evaluation.score_generator(generator, n=200, classifier=loaded)
    assert 0.0 <= scored["conditional_accuracy"] <= 1.0
    assert 1.0 <= scored["mnist_score"] <= 10.0 and scored["frechet_distance"] > 0
    # The figures are the classifier's own scores of these very samples (same seed).
    direct = loaded.score(*loaded.features_and_probabilities(images), labels)
    for name in ("mnist_score", "frechet_distance", "conditional_accuracy"):
        assert scored[name] == pytest.approx(direct[name], rel=1e-6), name
    assert "conditional_accuracy" not in evaluation.score_generator(
        tiny_generator(), n=200, classifier=loaded)


def run_metrics(*args, cache, cwd, monkeypatch):
    """`python -m common.metrics ARGS` with the classifier cache `cache`, in this process."""
    monkeypatch.setenv(classifier.CACHE_ENV, cache)
    return call_main(metrics.main, *args, cwd=cwd)


def test_command_scores_a_saved_generator(tiny_cache, tmp_path, monkeypatch):
    path = str(tmp_path / "generator.keras")
    tiny_generator(conditional=True).save(path)
    result = run_metrics(path, "--n", "200", cache=tiny_cache, cwd=tmp_path,
                         monkeypatch=monkeypatch)
    assert result.returncode == 0, result.stderr
    assert "conditional, 200 samples" in result.stdout
    for column in ("Fréchet", "MNIST score", "classes", "accuracy", "real (held-out)"):
        assert column in result.stdout
    assert "Training the MNIST classifier" not in result.stdout  # the cache was used


def test_command_with_a_missing_file_ends_with_one_clear_message(tiny_cache, tmp_path,
                                                                  monkeypatch):
    result = run_metrics(str(tmp_path / "nothing.keras"), cache=tiny_cache, cwd=tmp_path,
                         monkeypatch=monkeypatch)
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("make, message", [
    (lambda path: open(path, "w").write("not a model"), "could not be loaded as a Keras model"),
    (lambda path: keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                    keras.layers.Dense(1)]).save(path), "not a generator"),
    (lambda path: keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)]).save(path),
     "not 28x28x1 digits"),
])
def test_command_refuses_what_is_not_an_mnist_generator(make, message, tiny_cache, tmp_path,
                                                        monkeypatch, capsys):
    path = str(tmp_path / "model.keras")
    make(path)
    monkeypatch.setenv(classifier.CACHE_ENV, tiny_cache)
    with pytest.raises(SystemExit) as exit_info:
        metrics.main([path])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_maths_and_scoring_import_neither_keras_nor_tensorflow():
    """common.scores (the Fréchet maths) and common.evaluation load without the
    heavy frameworks, and without the command line (no import circle)."""
    import subprocess
    import sys
    code = ("import sys; import common.scores, common.evaluation; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'common.cli', 'common.metrics') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
