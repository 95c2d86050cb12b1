"""Domain errors. Each carries data, owns its exit code, and renders itself once at the CLI edge.

No message here may contain a secret: tokens travel as `SecretStr` and are never formatted in.
"""

from __future__ import annotations

from dataclasses import dataclass


class ProvisionerError(Exception):
    """Base of every error a user can cause or meet; shown without a stack trace."""

    exit_code = 1

    def render(self) -> str:
        return f"Error: {self}"


@dataclass(frozen=True)
class Problem:
    """One input problem: where it is and what to do about it."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str | None = None

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")


class ConfigError(ProvisionerError):
    """Invalid page files or settings; holds every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.field))
        super().__init__(f"{len(self.problems)} problem(s) in the configuration")

    def render(self) -> str:
        lines = [p.render() for p in self.problems]
        lines.append(f"Error: {len(self.problems)} problem(s) found; nothing was changed.")
        return "\n".join(lines)


class StateError(ProvisionerError):
    """The lockfile (or other state) is unreadable, from another API, or otherwise unusable."""


class LockHeld(StateError):
    """Another apply holds the state lock."""


class PlanRefused(ProvisionerError):
    """A plan that must not be applied: prevent_destroy, --max-deletes, a stale saved plan."""


class ApiError(ProvisionerError):
    """The Scheduler API answered with an error, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, type: str | None = None):
        super().__init__(message)
        self.status = status
        self.type = type


class NotFound(ApiError):
    """404: the page is gone."""


class SlugTaken(ApiError):
    """A create or update refused because another page or configuration already has the slug."""


class OutcomeUnknown(ApiError):
    """A write whose outcome is unknown (timeout, dropped connection, 5xx after sending)."""


class DeadlineExceeded(ApiError):
    """No complete answer within a request's total deadline (its attempts and the waits between them)."""


class Aborted(ProvisionerError):
    """The user declined, or apply was refused without a TTY."""
