"""Progress of long work on stderr: the phase (refresh, apply), the count, the time elapsed and, on long
runs, an estimate of the time left.

On a terminal one line is redrawn in place from the first moment (at most ten times a second), so a
plan of many pages shows something at once. Elsewhere (CI logs, pipes) nothing is drawn: a short run
stays silent and a long one writes a plain line every ``every`` seconds; apply also writes one line per
page (its outcome is part of the record). The clock is injected, so tests need no sleeping.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from .render.values import clean

BAR_WIDTH = 24
REDRAW_S = 0.1  # a terminal line redrawn at most this often
ETA_AFTER_S = 2.0  # an estimate only once the rate is known well enough to mean something


def clock_text(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class StderrReporter:
    """One phase's progress (the `apply.Reporter` protocol: begin, step, end)."""

    def __init__(self, tty: bool, stream: TextIO | None = None, *, phase: str = "apply", each_step: bool = True,
                 every: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.tty, self.stream = tty, stream or sys.stderr
        self.phase, self.each_step, self.every, self.clock = phase, each_step, every, clock
        self.total = self.count = 0
        self.started = self.last_shown = 0.0
        self.noted = False  # a note is on the terminal line, to be replaced or cleared
        self.requests: Callable[[], int] | None = None  # HTTP requests sent so far, when the work tells

    def show_requests(self, requests: Callable[[], int]) -> None:
        """Say how many requests the work has sent, beside the pages (refresh: `provisioner.refresh`)."""
        self.requests = requests

    def note(self, text: str) -> None:
        """What is being done before the counting starts (reading pages, the state): on a terminal
        only, at once, until the phase begins or `clear` is called."""
        if self.tty:
            self._write(f"\r\x1b[K{text}")
            self.noted = True

    def clear(self) -> None:
        """Erase a note still on the line (nothing was counted, or the work failed)."""
        if self.noted:
            self._write("\r\x1b[K")
            self.noted = False

    def begin(self, total: int) -> None:
        self.total, self.count = total, 0
        self.started = self.last_shown = self.clock()
        if self.tty and total:
            self._draw()
        else:
            self.clear()

    def step(self, address: str, outcome: str) -> None:
        self.count += 1
        address, outcome = clean(address), clean(outcome)  # names and API texts: no raw control characters
        now = self.clock()
        if self.tty:
            if outcome.startswith("failed"):
                self._write(f"\r\x1b[K{address}: {outcome}\n")
                self._draw()
            elif self.count == self.total or now - self.last_shown >= REDRAW_S:
                self._draw()
            return
        if self.each_step:
            self._write(f"{address}: {outcome}\n")
        if now - self.last_shown >= self.every and self.count < self.total:
            self.last_shown = now
            self._write(f"{self.status()}\n")

    def end(self) -> None:
        if self.tty and self.total:
            self._write("\n")
        elif not self.tty and self.clock() - self.started >= self.every:  # a long run says how it ended
            sent = f", {self.requests()} requests" if self.requests is not None else ""
            self._write(f"{self.phase}: {self.count}/{self.total} done in {clock_text(self.clock() - self.started)}"
                        f"{sent}\n")

    def status(self) -> str:
        """``refresh: 120/1000 pages, 0:12 elapsed, about 1:28 left`` (``..., 12 requests, 0:01 elapsed``
        when the work says how many requests it sent)."""
        elapsed = self.clock() - self.started
        sent = f", {self.requests()} requests" if self.requests is not None else ""
        text = f"{self.phase}: {self.count}/{self.total} pages{sent}, {clock_text(elapsed)} elapsed"
        if self.count and elapsed >= ETA_AFTER_S and self.count < self.total:
            text += f", about {clock_text(elapsed / self.count * (self.total - self.count))} left"
        return text

    def _draw(self) -> None:
        self.last_shown, self.noted = self.clock(), False
        filled = BAR_WIDTH * self.count // max(self.total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        phase, _, rest = self.status().partition(": ")
        self._write(f"\r\x1b[K{phase} [{bar}] {rest}")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
