"""What every command shares: the group class whose entry point is the error boundary, the common
options gathered into `Settings`, and the option types. Imports only click and the standard library."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from .boundary import run_guarded, wants_debug

F = TypeVar("F", bound=Callable[..., Any])
TARGET_ENV = "PROVISIONER_TARGET_ENV"  # also `project.TARGET_ENV`; kept here so --help needs no pydantic


class ProvisionerGroup(click.Group):
    """A command group whose entry point is the error boundary: a usage error exits 1 (never 2, which
    means "changes"), and a bare group (``provisioner``, ``provisioner state``) is a usage error."""

    group_class = type  # subgroups are ProvisionerGroups too

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        # No pydantic plugin runs: a plugin sees every input validated, resolved access tokens and the
        # edit tokens of API answers included. (Looking for plugins also reads every installed package's
        # metadata on the first model built, a large share of `validate`'s start-up.)
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        code = run_guarded(lambda: super(ProvisionerGroup, self).main(
            argv, prog_name, complete_var, standalone_mode=False, **extra), debug=wants_debug(argv))
        sys.exit(code)


class Choice(click.Choice):
    """click.Choice that adds "did you mean" to a near miss (`--format jsn`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            import difflib

            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            if not close:
                raise
            raise click.BadParameter(f"{exc.message} Did you mean {close[0]!r}?", ctx=ctx, param=param) from None


DEBUG = click.option("--debug", is_flag=True, expose_value=False, help="Show stack traces.")


def common(fn: F) -> F:
    """--dir, --lockfile, --api-url and --debug on every command, gathered into `Settings`."""

    @click.option("--dir", "pages_dir", default="pages", show_default=True, type=click.Path(path_type=Path),
                  help="Folder of page files.")
    @click.option("--lockfile", default=None, type=click.Path(path_type=Path),
                  help="The lockfile (state)  [default: pages.lock, or the target's state]")
    @click.option("--api-url", envvar="PROVISIONER_API_URL", default=None,
                  help="Scheduler API URL [env PROVISIONER_API_URL]; default: the target's, else the local emulator.")
    @click.option("--target-env", envvar=TARGET_ENV, default=None, metavar="NAME",
                  help=f"A target of provisioner.yaml [env {TARGET_ENV}].")
    @DEBUG
    @functools.wraps(fn)
    def wrapper(pages_dir: Path, lockfile: Path | None, api_url: str | None, target_env: str | None,
                **kwargs: Any) -> Any:
        from .settings import settings_for

        settings = settings_for(
            pages_dir=pages_dir, lockfile=lockfile, api_url=api_url or None, target_env=target_env or None,
            parallelism=kwargs.pop("parallelism", None), env=os.environ,
            max_deletes=kwargs.pop("max_deletes", None), max_changes_percent=kwargs.pop("max_changes_percent", None),
            refresh=kwargs.pop("refresh", None),
        )
        return fn(settings, **kwargs)

    return wrapper  # type: ignore[return-value]


def isatty(stream: Any) -> bool:
    """A closed stream (`>&-` makes `sys.stdout` None) is no terminal."""
    return stream is not None and stream.isatty()


def terminal(stream: Any) -> bool:
    """A terminal that understands escape codes (colour, a redrawn progress line): not ``TERM=dumb``."""
    return isatty(stream) and os.environ.get("TERM") != "dumb"


def color_wanted() -> bool:
    """Colour only on such a terminal, and never with ``NO_COLOR`` set, even to "" (PRODUCT.md §7 says never
    with it; no-color.org would colour an empty one)."""
    return terminal(sys.stdout) and "NO_COLOR" not in os.environ


FORMAT = click.option("--format", "fmt", type=Choice(["text", "json", "markdown"]), default="text",
                      show_default=True, help="Output format.")
TARGET = click.option("--target", "targets", multiple=True, metavar="ADDRESS",
                      help="Limit the work to this page (repeatable).")
MAX_DELETES = click.option(
    "--max-deletes", type=click.IntRange(0), default=None,
    help="Refuse to delete more live pages than this in one run  [default: the target's, else 5]")
MAX_CHANGES = click.option(
    "--max-changes-percent", type=click.FloatRange(0, 100), default=None,
    help="Refuse to update more than this share of the managed pages in one run (only from 10 pages on)  "
         "[default: the target's, else 30]")
PARALLELISM = click.option("--parallelism", type=click.IntRange(1, 256), default=None,
                           help="Concurrent API requests  [default: 8]")
REFRESH = click.option(
    "--refresh", type=Choice(["auto", "list", "page"]), default="auto", show_default=True,  # changes.REFRESH_MODES
    help="How live pages are read: auto = per account (v3: grant) whichever costs fewer requests; "
         "list = list each account's pages; page = one request per page.")
