"""Small file helpers: atomic, durable writes and directory fsync."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def atomic_write(path: Path, data: str | bytes | Iterable[str], mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` so that a reader or a crash sees the old or the new file, never
    a mix: temp file in the same folder, fsync, rename, fsync the folder. ``data`` may be an
    iterable of text chunks, written as they come (a large file is never whole in memory). ``mode``
    defaults to the replaced file's, else 0644. A symlink is written through. OS errors (a full disk...)
    propagate as `OSError`, the old file intact and no temp file left: callers say what failed."""
    if path.is_symlink():  # written through: the file it points to is replaced, never the link
        path = Path(os.path.realpath(path))
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes | str):
                fh.write(data.encode() if isinstance(data, str) else data)
            else:
                for chunk in data:
                    fh.write(chunk.encode())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename, create or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (symlinks and ``..`` resolved; either may not exist yet)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return Path(os.path.realpath(a)) == Path(os.path.realpath(b))
    except OSError:
        return False


def is_within(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or under it, symlinks resolved."""
    real, root = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == root or root in real.parents
