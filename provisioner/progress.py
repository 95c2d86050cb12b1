"""Progress of long work, on stderr: a bar on a terminal, one line per step otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from .render.values import clean


class StderrReporter:
    def __init__(self, tty: bool, stream: TextIO | None = None):
        self.tty, self.stream = tty, stream or sys.stderr
        self.total = self.count = 0

    def begin(self, total: int) -> None:
        self.total, self.count = total, 0

    def step(self, address: str, outcome: str) -> None:
        self.count += 1
        address, outcome = clean(address), clean(outcome)  # names and API texts: no raw control characters
        if self.tty:
            width = 30
            filled = width * self.count // max(self.total, 1)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.count}/{self.total}")
            if outcome.startswith("failed"):
                self.stream.write(f"\n{address}: {outcome}\n")
        else:
            self.stream.write(f"{address}: {outcome}\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty and self.total:
            self.stream.write("\n")
            self.stream.flush()
