"""The next batch, ready before the step asks for it.

`fit` draws each step's arrays with the model's `draw_batch(rng, batch_size)`
(real images, noise, labels). Reading images from a folder takes time, so
while step t runs, a background thread draws the batch of step t+1, as
tf.data's `prefetch` and PyTorch's DataLoader workers do.

The batches are the very ones a run without the thread draws: the thread
draws with a copy of the model's NumPy generator `gan.rng`, and `gan.rng`
itself is moved on to the copy's state only when the loop takes the batch.
So `gan.rng` always holds the state after the last batch a step used, and a
checkpoint (which saves it) resumes exactly as before, whatever was drawn
ahead. Should anything else draw from `gan.rng` between two steps, the batch
drawn ahead no longer follows from its state: it is dropped and drawn again
in the loop, as without the thread.
"""
import copy
import threading

# How many batches are drawn ahead of the step; 0 draws each batch in the
# loop, between steps (benchmarks/loader_speed.py compares the two).
BATCHES_AHEAD = 1


class _Draw:
    """One `draw_batch` run in a daemon thread with its own copy of the generator."""

    def __init__(self, gan, batch_size):
        self.start = copy.deepcopy(gan.rng.bit_generator.state)
        self.rng = copy.deepcopy(gan.rng)
        self.batch, self.error = None, None
        self.thread = threading.Thread(target=self._run, args=(gan, batch_size),
                                       name="keras-gan-next-batch", daemon=True)
        self.thread.start()

    def _run(self, gan, batch_size):
        try:
            self.batch = gan.draw_batch(self.rng, batch_size)
        except BaseException as error:  # raised in the loop, where the batch is taken
            self.error = error

    def result(self):
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.batch


class Prefetcher:
    """The batches of `steps` steps of `gan`, each drawn while the previous step runs.

    `next()` returns the arrays of the next step (what
    `gan.draw_batch(gan.rng, batch_size)` returns, and with `gan.rng` left
    where that call leaves it) and starts drawing the one after; `close()`
    waits for a draw in progress (a fraction of a step) and drops it.
    """

    def __init__(self, gan, batch_size, steps, ahead=None):
        self.gan, self.batch_size, self.left = gan, batch_size, steps
        if ahead is None:  # a model whose draw reads what a step changes draws in the loop
            ahead = BATCHES_AHEAD if gan.draw_ahead else 0
        self.ahead = ahead
        self.redrawn = 0  # batches drawn again because `gan.rng` moved meanwhile
        self._pending = None
        self._start_next()

    def _start_next(self):
        self._pending = None
        if self.ahead and self.left > 0:
            self._pending = _Draw(self.gan, self.batch_size)

    def next(self):
        gan, pending = self.gan, self._pending
        self.left -= 1
        if pending is None:
            batch = gan.draw_batch(gan.rng, self.batch_size)
        else:
            try:
                batch = pending.result()
            finally:
                self._pending = None
            if gan.rng.bit_generator.state == pending.start:
                gan.rng.bit_generator.state = pending.rng.bit_generator.state
            else:  # something else drew from gan.rng: the batch it would have given now
                self.redrawn += 1
                batch = gan.draw_batch(gan.rng, self.batch_size)
        self._start_next()
        return batch

    def close(self):
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.thread.join()


def prefetched_batches(gan, batch_size, steps):
    """A `Prefetcher` for `fit`'s loop: `next()` per step, `close()` at the end."""
    return Prefetcher(gan, batch_size, steps)
