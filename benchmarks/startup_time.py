"""How long from launch to the first training step? `python dcgan/dcgan.py`
(or another model script) run as a user runs it, per Keras backend.

Each run starts the script in a process of its own, from another directory
(a temporary one), with KERAS_BACKEND set, and reads its output line by line;
the time from launch to its first progress line is the start-up: imports,
data, building the models, compiling the step and running step 1 (with step
1's sample grid, saved generator and checkpoint, which the loop writes before
the progress line). Then it sends Ctrl-C (SIGINT) and waits for the run to
stop. Runs alternate between backends, `--repeats` rounds; the first round
fills the caches a machine keeps between runs (the remembered XLA choice on
TensorFlow, JAX's compilation cache, the decoded offline MNIST digits), so it
is reported apart: "second run" is the median of the later rounds, the start-up
of a machine that has run the model before. Caches stay where they are (the
user's ~/.keras), so a machine that already ran the model starts warm.

    python benchmarks/startup_time.py                          # dcgan, 3 backends, 3 rounds
    python benchmarks/startup_time.py --backends tensorflow,jax --repeats 5
    python benchmarks/startup_time.py --model gan/gan.py --show-output
    python benchmarks/startup_time.py --repos /path/to/old/checkout,.   # before and after

Measure on an otherwise idle machine: start-up is mostly CPU-bound imports.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def first_step_seconds(script, backend, epochs=600, show_output=False, repo=REPO, timeout=300):
    """Seconds from launching `repo`/`script` under `backend` to its first
    progress line, and every line it printed until then."""
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
    with tempfile.TemporaryDirectory(prefix="startup-") as folder:
        command = [sys.executable, os.path.join(repo, script), "--epochs", str(epochs),
                   "--out", os.path.join(folder, "out"), "--overwrite"]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, bufsize=1)
        lines, seconds = [], None
        try:
            for line in process.stdout:
                lines.append(line.rstrip("\n"))
                if show_output:
                    print(f"    {time.perf_counter() - started:6.2f} s | {line}", end="")
                # The first progress line: "  1/600 - d_loss ..." (steps done out of the total).
                if line.lstrip().startswith(f"1/{epochs:,}"):
                    seconds = time.perf_counter() - started
                    break
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # stops after the step, with a checkpoint
            try:
                rest, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                rest, _ = process.communicate()
        if seconds is None:
            raise RuntimeError(f"{script} on {backend} printed no progress line:\n"
                               + "\n".join(lines + (rest or "").splitlines()))
        return seconds, lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dcgan/dcgan.py",
                        help="the script, relative to the checkout")
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds; the first fills the caches and is reported apart")
    parser.add_argument("--epochs", type=int, default=600,
                        help="steps asked for (>= 500: TensorFlow then times or recalls XLA)")
    parser.add_argument("--repos", default=REPO,
                        help="checkouts to compare, separated by commas (before,after); "
                             "their runs alternate too")
    parser.add_argument("--show-output", action="store_true",
                        help="print each run's lines with the time each came")
    args = parser.parse_args(argv)
    cases = [(os.path.abspath(repo), backend) for backend in args.backends.split(",")
             for repo in args.repos.split(",")]
    seconds = {case: [] for case in cases}
    for round_ in range(args.repeats):
        for repo, backend in cases:  # alternated, so that each sees the machine alike
            took, _ = first_step_seconds(args.model, backend, args.epochs, args.show_output, repo)
            seconds[repo, backend].append(took)
            print(f"round {round_ + 1}: {backend:<10} {took:5.1f} s to the first step ({repo})",
                  flush=True)
    print(f"\n{args.model}, launch -> first progress line (step 1 done), "
          f"{os.cpu_count()} CPU cores:")
    heading = "second run: median (each later round)"
    print(f"{'backend':<11} {'first run':>9}   {heading:<40} checkout")
    for repo, backend in cases:
        first, later = seconds[repo, backend][0], seconds[repo, backend][1:]
        warm = (f"{statistics.median(later):.1f} s ({', '.join(f'{s:.1f}' for s in later)})"
                if later else "-")
        print(f"{backend:<11} {first:7.1f} s   {warm:<40} {repo}")


if __name__ == "__main__":
    main()
