"""The emulator's clock: an injected base clock that the test controls can pin and move.

`SettableClock` is what every part of the emulator asks for "now". Unpinned, it returns the base
clock's time (the wall clock by default, or whatever a test injected). `set` pins it at an instant and
`advance` moves it (pinning it first at the base time); `reset` unpins it. A pinned clock stands still:
tests never wait on the wall clock. All instants are timezone-aware UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SettableClock:
    """A callable returning "now"; pinnable by `set` and `advance`."""

    def __init__(self, base: Callable[[], datetime]) -> None:
        self._base = base
        self._pinned: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now = self._pinned if self._pinned is not None else self._base()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    @property
    def pinned(self) -> bool:
        return self._pinned is not None

    def set(self, now: datetime) -> datetime:
        """Pin the clock at `now` (naive means UTC); returns it."""
        with self._lock:
            self._pinned = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
            return self._pinned

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock by `delta` from the current time and pin it there; returns the new now."""
        return self.set(self() + delta)

    def reset(self) -> datetime:
        """Follow the base clock again; returns its now."""
        with self._lock:
            self._pinned = None
        return self()
