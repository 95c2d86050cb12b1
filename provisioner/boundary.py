"""The CLI's one error boundary: every exception of every command becomes a message and an exit code.

Exit codes: 0 ok; 1 any error, usage errors included (2 is reserved for "changes" and "drift", which
commands signal themselves), also, quietly, when stdout's reader went away (`plan | head -1`, as
click itself does); 130 interrupted. A user's or the environment's mistake never shows a stack
trace; ``--debug`` adds one. An unexpected exception is a bug: it is named by type and place only,
since a foreign library's message may quote a secret (httpx echoes header values), and the trace is
behind ``--debug``.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from .errors import ProvisionerError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 1  # click's own choice for a pipe closed during a command; the same when flushing


def wants_debug(args: Sequence[str]) -> bool:
    """``--debug`` anywhere among the options (before a ``--``), known before parsing can fail."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--debug":
            return True
    return False


class ClosedStdout(io.TextIOBase):
    """Stands in for a closed standard output (`provisioner plan >&-`, where Python sets `sys.stdout`
    to None): the first write fails as writing to a closed descriptor does, so the output is not lost
    silently; commands that print nothing still work."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


def run_guarded(call: Callable[[], Any], debug: bool) -> int:
    """Run a click entry point in non-standalone mode and turn its outcome into an exit code."""
    if sys.stdout is None:
        sys.stdout = ClosedStdout()
    for stream in (sys.stdout, sys.stderr):
        escape_unencodable(stream)
    try:
        try:
            outcome = call()
        except SystemExit as exc:  # a command's own verdict (`sys.exit(2)` for changes)
            outcome = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
        _flush_stdout()
        return outcome if isinstance(outcome, int) else 0
    except BaseException as exc:  # this is the boundary: everything ends here
        return _report(exc, debug)


def escape_unencodable(stream: object) -> None:
    """A stream whose encoding cannot show a character (`PYTHONIOENCODING=latin-1`, a legacy locale) gets
    it escaped (``\\u2713``) as Python's own stderr does, rather than failing the command mid-output."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) == "strict":
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # closed, or not a text stream after all: left as it is
            pass


def _report(exc: BaseException, debug: bool) -> int:
    if _is_broken_pipe(exc):
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    if isinstance(exc, click.Abort) and isinstance(exc.__cause__, KeyboardInterrupt):
        exc = exc.__cause__  # click turns Ctrl-C into Abort; it stays an interruption here
    if debug and not isinstance(exc, click.exceptions.Exit):
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.ClickException):  # usage errors, bad parameters: click's own message
        exc.show()
        return EXIT_ERROR
    if isinstance(exc, click.Abort):
        _echo_err("Aborted.")
        return EXIT_ERROR
    if isinstance(exc, KeyboardInterrupt):
        _echo_err("Interrupted; the state keeps every step completed so far.")
        return EXIT_INTERRUPTED
    if isinstance(exc, ProvisionerError):
        _echo_err(exc.render())
        return exc.exit_code
    if isinstance(exc, MemoryError):
        _echo_err("Error: out of memory")
        return EXIT_ERROR
    if isinstance(exc, OSError):  # the environment: permissions, disk full, a vanished file
        _echo_err(f"Error: {describe_os_error(exc)}")
        return EXIT_ERROR
    if isinstance(exc, RecursionError):
        _echo_err("Error: the input is nested too deeply")
        return EXIT_ERROR
    _echo_err(f"Error: unexpected {type(exc).__name__} at {_where(exc)}; this is a bug in provisioner."
              + ("" if debug else " Rerun with --debug for the full trace, and please report it."))
    return EXIT_ERROR


def describe_os_error(exc: OSError) -> str:
    """`[Errno 28] No space left on device: 'x'` as `x: No space left on device`."""
    reason = exc.strerror or type(exc).__name__
    names = [repr_path(name) for name in (exc.filename, exc.filename2) if name is not None]
    return f"{' -> '.join(names)}: {reason}" if names else reason


def repr_path(name: object) -> str:
    """A file name fit for a terminal: undecodable bytes and control characters escaped."""
    text = os.fsdecode(name) if isinstance(name, (str, bytes, os.PathLike)) else str(name)
    return text if text.isprintable() else str(os.fsencode(text))[2:-1]


def _where(exc: BaseException) -> str:
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "an unknown place"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno}"


def _is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE)


def _flush_stdout() -> None:
    """Flush now, so a closed pipe is met inside the boundary rather than at interpreter exit."""
    if sys.stdout is not None:
        sys.stdout.flush()


def _silence_stdout() -> None:
    """The reader is gone: point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's capture)
        pass


def _echo_err(message: str) -> None:
    try:
        click.echo(message, err=True)
    except OSError:  # stderr is gone too: nothing left to tell
        pass
