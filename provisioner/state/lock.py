"""The one-apply-at-a-time lock for a lockfile: ``flock`` on a sibling ``.lock`` file.

The lock belongs to an open file, so the operating system releases it when its holder exits for
any reason, kill -9 included: there is never a stale lock to clean up by hand. The holder writes who
it is into the file once it has the lock, so a refused apply can say who holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from ..errors import LockHeld, StateError
from .base import Holder


def current_holder(env: Mapping[str, str] | None = None, now: Callable[[], datetime] | None = None) -> Holder:
    """This process as a lock holder, with the CI job's URL when one is known from ``env``
    (GitLab ``CI_JOB_URL``, or GitHub Actions' server, repository and run id)."""
    env = os.environ if env is None else env
    started = (now or (lambda: datetime.now(UTC)))().isoformat(timespec="seconds")
    job = env.get("CI_JOB_URL")
    if not job and env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        job = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return Holder(host=socket.gethostname(), pid=os.getpid(), started=started, ci_job_url=job or None)


def _encode(holder: Holder) -> bytes:
    data = {"host": holder.host, "pid": holder.pid, "started": holder.started,
            "ci_job_url": holder.ci_job_url}
    return (json.dumps(data, sort_keys=True) + "\n").encode()


def read_holder(fd: int) -> Holder | None:
    """The holder written in the lock file open at ``fd``, or None if it is not (yet) there."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return Holder(host=str(data["host"]), pid=int(data["pid"]), started=str(data["started"]),
                      ci_job_url=data.get("ci_job_url"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def held_error(location: str, holder: Holder | None) -> LockHeld:
    """The refusal shown to a second apply; carries the holder as ``.holder``."""
    if holder is None:
        message = f"{location} is locked by another apply (which has not said who it is yet)"
    else:
        message = f"{location} is locked by an apply: {holder.describe()}"
    err = LockHeld(message + "; try again when it has finished")
    err.holder = holder  # type: ignore[attr-defined]
    return err


@contextmanager
def hold_lock(path: Path, holder: Holder, location: str) -> Iterator[None]:
    """Hold the exclusive lock on ``path`` (created if missing) for the ``with`` block.

    Never waits: if another process (or another open in this one) holds it, raises `LockHeld` at
    once, naming the holder. ``location`` is the state's name for messages, e.g. ``pages.lock``.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise StateError(f"cannot open the lock file {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise held_error(location, read_holder(fd)) from None
        except OSError as exc:
            raise StateError(f"cannot lock {path}: {exc.strerror}") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, _encode(holder), 0)
        except OSError as exc:  # e.g. a full disk: nothing was changed yet
            raise StateError(f"cannot write the lock file {path}: {exc.strerror or exc}") from None
        try:
            yield
        finally:
            with suppress(OSError):  # closing releases the lock even if the holder's name stays
                os.ftruncate(fd, 0)  # nobody holds it once we close
    finally:
        os.close(fd)  # releases the flock
