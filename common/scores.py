"""The numbers behind "is the generator getting better?", from a classifier's
outputs alone: numpy and scipy, no Keras, no TensorFlow.

  - Fréchet distance (Heusel et al., 2017, "GANs trained by a two time-scale
    update rule converge to a local Nash equilibrium"; FID with Inception)
    between the classifier's penultimate-layer features of generated images
    and of real ones: 0 for identical distributions, lower is better;
  - the classifier score: the Inception-score formula (Salimans et al., 2016,
    "Improved techniques for training GANs") exp(E_x KL(p(y|x) || p(y))) on
    the classifier's class probabilities, as TF-GAN's `mnist_score`: from 1
    (every image the same class, or nothing recognisable) to K (confident
    images, all K classes equally often);
  - how many classes the generator produces (mode collapse shows here);
  - for conditional models, how often the classifier reads the requested class.

`common.classifier` trains the classifier these are computed with;
`common.evaluation` draws samples and scores them; `common.metrics` is the command.
"""
import warnings

import numpy as np

# A class counts as "produced" when at least a fifth of its balanced share of
# the samples is classified as it: 2% of MNIST's, a fifth of the 10% each
# digit gets from a balanced generator, and above what the classifier's own
# mistakes (about 1-2% of real digits, spread over nine other classes) add to
# a generator that draws only one digit. With K classes: 0.2 / K.
MIN_CLASS_FRACTION = 0.2
MIN_CLASS_SHARE = MIN_CLASS_FRACTION / 10  # MNIST's 2%


def feature_statistics(features):
    """Mean and covariance of a set of feature vectors.

    Args:
        features: array (N, D), N >= 2, one row per image.

    Returns:
        mu: float64 array (D,); sigma: float64 array (D, D) (unbiased, N - 1).
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"expected features of shape (N >= 2, D), got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2):

        ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))

    The standard treatment of numerical trouble (as in the FID reference code):
    when the product of near-singular covariances has no finite square root,
    `eps` is added to both diagonals; tiny imaginary parts that `sqrtm` leaves
    from round-off are dropped, large ones are an error.

    Args:
        mu1, mu2: arrays (D,). sigma1, sigma2: symmetric positive
            semi-definite arrays (D, D).
        eps: diagonal offset used only when the plain square root fails.

    Returns:
        A float >= 0 (up to round-off); 0 for identical statistics.
    """
    from scipy import linalg
    mu1, mu2 = (np.atleast_1d(np.asarray(mu, np.float64)) for mu in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(sigma, np.float64)) for sigma in (sigma1, sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"statistics do not match: means {mu1.shape} and {mu2.shape}, "
                         f"covariances {sigma1.shape} and {sigma2.shape}")
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # Features that never fire (dead ReLUs) make the covariances singular;
        # sqrtm warns about it, the checks below deal with it.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(mu1)) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"the square root of the covariance product has an imaginary "
                             f"part of {np.max(np.abs(covmean.imag)):.3g}; too few samples?")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance(features1, features2, eps=1e-6):
    """Fréchet distance between two sets of features (FID's formula), each
    summarised by its mean and covariance.

    Args:
        features1: array (N1, D); features2: array (N2, D); N1, N2 >= 2. The
            estimate is biased upwards for small N (more so for large D):
            compare numbers measured with the same sample sizes.
        eps: see `frechet_distance_from_statistics`.

    Returns:
        A float >= 0; about 0 for two samples of the same distribution.
    """
    return frechet_distance_from_statistics(*feature_statistics(features1),
                                            *feature_statistics(features2), eps=eps)


def mnist_score(probabilities, eps=1e-12):
    """The Inception-score formula on a classifier's class probabilities
    (Salimans et al., 2016; TF-GAN's `classifier_score` / `mnist_score`):

        exp( mean_x  KL( p(y|x) || p(y) ) ),  p(y) = mean_x p(y|x),

    computed on the whole set at once (no splits).

    Args:
        probabilities: array (N, K), rows summing to 1 (softmax outputs).
        eps: floor inside the logarithms, so 0 * log 0 counts as 0.

    Returns:
        A float in [1, K]: K when every image is classified confidently and
        all K classes are equally frequent, 1 when every image gets the same
        distribution over classes (one class for all, or no confident class).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"expected probabilities of shape (N, K), got {p.shape}")
    marginal = p.mean(axis=0, keepdims=True)
    kl = np.sum(p * (np.log(p + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(kl.mean()))


def class_shares(probabilities):
    """Fraction of the images assigned (argmax) to each class.

    Args:
        probabilities: array (N, K) of class probabilities (or scores).

    Returns:
        float64 array (K,) summing to 1.
    """
    p = np.asarray(probabilities)
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1]) / len(p)


def count_classes(probabilities, min_share=None):
    """How many classes the images cover: classes that receive at least
    `min_share` of the argmax predictions.

    Args:
        probabilities: array (N, K) of class probabilities.
        min_share: fraction in [0, 1]; default 0.2 / K, 0.02 for MNIST (see
            MIN_CLASS_SHARE: a fifth of a balanced generator's 10% per digit,
            above the classifier's own error rate).

    Returns:
        An int in [1, K]; 10 for MNIST digits of every kind.
    """
    shares = class_shares(probabilities)
    if min_share is None:
        min_share = MIN_CLASS_FRACTION / len(shares)
    return int(np.sum(shares >= min_share - 1e-12))


def conditional_accuracy(probabilities, labels):
    """Fraction of images classified (argmax) as the label they were asked for.

    Args:
        probabilities: array (N, K) of class probabilities.
        labels: int array (N,) or (N, 1) of requested classes in [0, K).

    Returns:
        A float in [0, 1]; about 0.1 for a generator that ignores its label.
    """
    labels = np.asarray(labels).reshape(-1)
    return float(np.mean(np.asarray(probabilities).argmax(axis=1) == labels))

