"""What the user sees and does while a run trains: the progress line, and
Ctrl-C, which stops the run after the current step."""
import signal
import sys
import threading
import time


class _StopRequest:
    """Ctrl-C (SIGINT) asks the loop to stop after the current step, so the
    checkpoint it saves is exactly the state after a whole step; a second
    Ctrl-C interrupts at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class Progress:
    """The progress line: steps done out of `total`, time left, this run's
    speed (after a resume, only the steps it trained itself) and the mean of
    each log since the previous update. The logs may be tensors on the
    device: they are read back only when a line is printed.

    On a terminal it is one line redrawn in place twice a second; when stdout
    is a file or a pipe (a log, CI) it prints a plain line, no control
    characters, every `every` seconds, and one at the end.

    Not `keras.utils.Progbar`, because it promises none of that: it divides its
    time per step by every step up to `current` (after a resume, steps an
    earlier process trained too), averages the logs from its start instead of
    since the previous line, and writes ANSI colour codes into log files."""

    def __init__(self, total, every=10.0, stream=None):
        self.stream = stream or sys.stdout
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.every = total, 0.5 if self.terminal else every
        self.first = None  # (time, steps) at the first step, after tracing and compiling
        # perf_counter() counts from an arbitrary point (the boot on Linux): the
        # first update prints however young the machine is.
        self.last_print, self.width = float("-inf"), 0
        self.pending, self.count = {}, 0

    def update(self, steps, logs, final=False):
        """Record the logs of one step (`steps` now done); print when it is time."""
        now = time.perf_counter()
        for name, value in logs.items():
            self.pending.setdefault(name, []).append(value)
        self.count += 1
        if self.first is None:
            self.first = (now, steps)
        if not final and now - self.last_print < self.every:
            return
        self.last_print = now
        line = self._line(steps, now)
        self.pending, self.count = {}, 0
        if self.terminal:
            padding = " " * max(0, self.width - len(line))
            self.width = len(line)
            self.stream.write("\r" + line + padding + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _line(self, steps, now):
        started, first_steps = self.first
        speed = (now - started) / (steps - first_steps) if steps > first_steps else None
        width = len(f"{self.total:,}")
        parts = [f"{steps:>{width},}/{self.total:,}"]
        if self.terminal:
            filled = int(20 * steps / self.total)
            parts[0] += " [" + "=" * filled + "." * (20 - filled) + "]"
        if speed is not None:
            left = speed * (self.total - steps)
            parts.append(f"{speed * 1e3:.0f} ms/step" if speed < 1 else f"{speed:.1f} s/step")
            if steps < self.total:
                parts.append(f"{int(left // 3600)}:{int(left % 3600 // 60):02d}:"
                             f"{int(left % 60):02d} left")
        parts += [f"{name} {sum(float(v) for v in values) / len(values):.4f}"
                  for name, values in self.pending.items()]
        return " - ".join(parts)
