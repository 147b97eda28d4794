"""One run per output folder, at a time.

A run holds an exclusive lock on `<out>/.run.lock` from before it touches
the folder (an --overwrite removing the earlier run's files included) until
it ends. A second process, or a second model object in the same process,
that wants the folder while the lock is held is refused with the holder's
process id and start time, whatever its flags.

The lock is the operating system's (`fcntl.flock`), not the file's
existence: it is released by the kernel when its process ends in any way
(SIGKILL, a crash), so a dead run never blocks the folder. The file itself
says who held it and whether that run ended; a claim found still marked
running but no longer locked (a run killed, or the machine powered off) is
taken over, and the new run says so.
"""
import json
import os
import socket
import sys
import time

from common.errors import UserError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the folder is then not guarded
    fcntl = None

LOCK_NAME = ".run.lock"


class RunLock:
    """The claim of one run on `out_dir`; `release()` (or the end of a
    `with` block) gives it up and marks it ended."""

    def __init__(self, out_dir, say=print):
        self.path = os.path.join(out_dir, LOCK_NAME)
        self._handle = None
        try:
            os.makedirs(out_dir, exist_ok=True)
            handle = open(self.path, "a+")
        except OSError as error:
            raise UserError(f"Output folder {out_dir} cannot be written ({error.strerror}): "
                            "choose another with --out.") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read(handle)
                handle.close()
                raise UserError(
                    f"{out_dir} is in use by a run that is still training ({_who(holder)}): "
                    "wait for it to end or stop it, or choose another --out.") from None
        previous = _read(handle)
        if previous.get("running") and previous.get("pid") != os.getpid():
            say(f"Note: taking over {out_dir} from a run that did not end ({_who(previous)}; "
                "killed, or the machine went down).", file=sys.stderr)
        self._handle = handle
        self._write({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                     "running": True})

    def _write(self, claim):
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps(claim))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def release(self):
        """Mark the claim ended and unlock (safe to call twice)."""
        if self._handle is None:
            return
        try:
            claim = _read(self._handle)
            claim["running"] = False
            self._write(claim)
        except OSError:  # the folder may be gone; the lock goes with the process anyway
            pass
        finally:
            self._handle.close()  # closing releases the flock
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _read(handle):
    try:
        handle.seek(0)
        claim = json.loads(handle.read() or "{}")
        return claim if isinstance(claim, dict) else {}
    except (OSError, ValueError):
        return {}


def _who(claim):
    pid = claim.get("pid")
    since = claim.get("since")
    parts = [f"process {pid}" if pid else "another process"]
    if claim.get("host") and claim.get("host") != socket.gethostname():
        parts[0] += f" on {claim['host']}"
    if isinstance(since, (int, float)):
        parts.append("since " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)))
    return ", ".join(parts)
