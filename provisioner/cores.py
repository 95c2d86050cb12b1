"""CPU-bound work over many items, spread across the machine's cores by forking.

Loading 10,000 page files is ~0.8 ms of pure Python each (YAML, merging, validation): seconds on one
core while the others idle. `map_on_cores` splits such a list into contiguous chunks, one per core: the
calling process works through the first while forked children work through the rest, and the results
come back in order, exactly as a plain loop would give them.

Forking copies the process as it is (modules imported, ``fn`` and everything it closes over), so
nothing but the items' results crosses a pipe. It is used only where it is safe and pays: on Linux,
from a process running no other thread (a fork copies no thread, only its locks, which could be held),
and for enough items that each chunk outweighs a fork (~10 ms). A child that dies (killed, out of memory)
never hangs the caller: its share is computed by the calling process instead. The children leave
Ctrl-C to the caller (which waits for their shares, then stops) and die with it if it is killed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

PER_CORE = 100  # the fewest items worth a process of their own
MAX_CORES = 8

_work: Callable[[Any], Any] | None = None  # the function of the map under way, inherited by the children


def cores_for(items: int) -> int:
    """How many processes to spread ``items`` over: 1 (this process alone) unless forking is safe and pays."""
    if sys.platform != "linux" or threading.active_count() > 1 or items < 2 * PER_CORE:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_CORES, items // PER_CORE))


def _child_start(parent: int) -> None:
    """A child ignores Ctrl-C (the terminal signals the whole group: an idle child would print a traceback)
    and is killed when the caller dies (else it would wait forever on the caller's pipe)."""
    import ctypes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the caller died before the line above
        os._exit(1)


def _chunk(items: Sequence[Any]) -> list[Any]:
    assert _work is not None
    return [_work(item) for item in items]


def map_on_cores(fn: Callable[[T], R], items: Sequence[T], cores: int | None = None) -> list[R]:
    """``[fn(item) for item in items]``, computed by ``cores`` processes (default `cores_for`)."""
    global _work
    cores = cores_for(len(items)) if cores is None else cores
    if cores <= 1:
        return [fn(item) for item in items]
    import multiprocessing  # only here: a command with few files (most) does not pay for their import
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    size = -(-len(items) // cores)
    chunks = [items[start:start + size] for start in range(0, len(items), size)]
    _work = fn
    try:
        with ProcessPoolExecutor(len(chunks) - 1, multiprocessing.get_context("fork"), _child_start,
                                 (os.getpid(),)) as pool:
            futures = [pool.submit(_chunk, chunk) for chunk in chunks[1:]]
            out = _chunk(chunks[0])
            for future, chunk in zip(futures, chunks[1:], strict=True):
                try:
                    out += future.result()
                except BrokenProcessPool:  # a child was killed (out of memory, say): its share is done here
                    out += _chunk(chunk)
            return out
    finally:
        _work = None
