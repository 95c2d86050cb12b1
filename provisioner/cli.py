"""Thin click commands: parse options, call one workflow, render, exit with the error's own code.

Start-up matters (every CI job pays it): this module imports only click and the standard library;
each command imports the workflow and renderer it needs when it runs. Errors end at one boundary
(`provisioner.boundary`, entered by `ProvisionerGroup.main`), so every command shares its exit codes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .cli_emulator import emulator
from .cli_options import (
    DEBUG,
    FORMAT,
    MAX_CHANGES,
    MAX_DELETES,
    PARALLELISM,
    REFRESH,
    TARGET,
    Choice,
    ProvisionerGroup,
    color_wanted,
    common,
    isatty,
    terminal,
)
from .cli_state import state

if TYPE_CHECKING:
    from pydantic import SecretStr

    from .changes import Plan
    from .progress import StderrReporter
    from .settings import Settings


@click.group(cls=ProvisionerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="provisioner")
@DEBUG
def main() -> None:
    """Scheduling Pages as code: plan and apply Nylas Scheduler pages from YAML."""


@main.command()
@common
def validate(settings: Settings) -> None:
    """Parse and check every page offline (no network, no secrets: token variables may be unset)."""
    from .errors import Problem
    from .validation import validate as validate_pages

    warnings: list[Problem] = []
    pages = validate_pages(settings, warnings=warnings)
    for warning in warnings:  # policy rules of severity warning
        click.echo(f"Warning: {warning.render()}", err=True)
    click.echo(f"{len(pages)} page(s) valid in {settings.pages_dir}/.")


@main.command()
@FORMAT
@TARGET
@PARALLELISM
@REFRESH
@MAX_DELETES
@MAX_CHANGES
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option("--out", type=click.Path(path_type=Path), help="Save the plan for `apply FILE`.")
@click.option("--preview", "with_preview", is_flag=True,
              help="Add the bookable-slot changes of pages whose booking, event or time zone changes.")
@common
def plan(settings: Settings, fmt: str, targets: tuple[str, ...], detailed_exitcode: bool,
         out: Path | None, with_preview: bool) -> None:
    """Refresh live pages and show what apply would do."""
    from . import workflows
    from .apply import BLOCKED
    from .errors import PlanRefused
    from .render import clean, render_plan

    progress = _refresh_progress(settings)
    try:
        result = workflows.plan(settings, targets, progress=progress)
    finally:
        progress.clear()
    previews = workflows.preview(settings, workflows.slot_changes(result), date.today(), 7) if with_preview else []
    click.echo(render_plan(result, fmt, color=fmt == "text" and color_wanted(), previews=previews), nl=False)
    if result.refusals:  # shown above; never saved
        raise PlanRefused("apply would refuse this plan: " + "; ".join(result.refusals))
    if out is not None:
        workflows.save_plan(settings, out, result, render_plan(result, "json"), targets)
        click.echo(f"Plan saved to {out}; apply it with `provisioner apply {out}`.", err=True)
    if result.blocked:  # the rest of the plan stands (and applies); the blocked pages make it fail
        raise PlanRefused(", ".join(clean(p.address) for p in result.blocked) + ": " + BLOCKED)
    if detailed_exitcode and result.has_changes:
        sys.exit(2)


def _refresh_progress(settings: Settings) -> StderrReporter:
    """The refresh's progress, and at once a first line on a terminal (reading many pages takes a while)."""
    from .progress import StderrReporter

    progress = StderrReporter(tty=terminal(sys.stderr), phase="refresh", each_step=False)
    progress.note(f"reading {settings.pages_dir}/ and the state...")
    return progress


def _approver(interactive: bool) -> Callable[[Plan], bool]:
    """Shows the plan before anything is changed; asks on a terminal, approves otherwise."""

    from .render import render_plan

    def approve(plan_: Plan) -> bool:
        click.echo(render_plan(plan_, "text", color=color_wanted()), nl=False)
        if not interactive:
            return True
        answer = click.prompt("Apply these changes? Only 'yes' is accepted", default="", show_default=False)
        return answer == "yes"

    return approve


@main.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@MAX_DELETES
@MAX_CHANGES
@TARGET
@PARALLELISM
@REFRESH
@common
def apply(settings: Settings, plan_file: Path | None, auto_approve: bool, targets: tuple[str, ...]) -> None:
    """Converge the live pages to pages/ (or apply exactly a saved PLAN_FILE)."""
    from . import workflows
    from .errors import Aborted
    from .progress import StderrReporter
    from .render import clean, render_plan

    if plan_file is not None and targets:
        raise click.UsageError("a saved plan keeps the --target it was made with; do not pass --target again")
    interactive = isatty(sys.stdin) and not auto_approve and plan_file is None
    if not interactive and not auto_approve and plan_file is None:
        raise Aborted("refusing to apply without a terminal to confirm: pass --auto-approve or a saved plan file")
    request = workflows.ApplyRequest(plan_file=plan_file, targets=targets)
    reporter = StderrReporter(tty=terminal(sys.stderr), phase="apply")
    refreshing = _refresh_progress(settings)
    try:
        shown, result = workflows.apply(settings, request, _approver(interactive), reporter, refreshing)
    finally:
        refreshing.clear()
    if result is None:
        click.echo(render_plan(shown, "text", color=color_wanted()), nl=False)
        click.echo("Nothing to apply.")
        return
    for address, message in result.failed:
        click.echo(f"Error: {clean(address)}: {clean(message)}", err=True)
    verdict = "failed" if result.failed else "complete"
    click.echo(f"Apply {verdict}: {len(result.done)} done, {len(result.failed)} failed.")
    if result.failed:
        sys.exit(1)


@main.command()
@FORMAT
@TARGET
@PARALLELISM
@REFRESH
@common
def drift(settings: Settings, fmt: str, targets: tuple[str, ...]) -> None:
    """Report live edits made outside provisioner since the last apply."""
    from . import workflows
    from .render import render_drift

    progress = _refresh_progress(settings)
    try:
        report = workflows.drift(settings, targets, progress)
    finally:
        progress.clear()
    click.echo(render_drift(report, fmt, color=fmt == "text" and color_wanted()), nl=False)
    if report.has_drift:
        sys.exit(2)


def _secret_input(env_var: str | None, what: str) -> SecretStr:
    """A token from an environment variable, else from standard input; never from the command line."""
    from pydantic import SecretStr

    from .errors import ProvisionerError

    if env_var:
        value = os.environ.get(env_var, "")
        if not value.strip():
            raise ProvisionerError(f"environment variable {env_var} is not set or empty")
    else:
        if isatty(sys.stdin):
            click.echo(f"Paste the {what} and press Enter (it is not shown):", err=True)
            value = click.prompt("", hide_input=True, prompt_suffix="", err=True)
        else:
            value = sys.stdin.readline() if sys.stdin is not None else ""
        if not value.strip():
            raise ProvisionerError(f"no {what} on standard input; or pass --{what.replace(' ', '-')}-env VAR")
    return SecretStr(value.strip())


@main.command("import")
@click.argument("address", required=False)
@click.option("--page-id", type=click.IntRange(1, 2**63 - 1), help="v2: the live page's id.")
@click.option("--edit-token-env", metavar="VAR", help="v2: read the page's edit token from this variable (else stdin).")
@click.option("--account-token-env", metavar="VAR",
              help="v2: adopt every page of the account whose access token is in VAR, as ADDRESS/SLUG.")
@click.option("--configuration-id", metavar="ID", help="v3: the live configuration's id.")
@click.option("--grant", metavar="GRANT", help="v3: the grant it lives under (alone: adopt every configuration).")
@common
def import_(settings: Settings, address: str | None, page_id: int | None, edit_token_env: str | None,
            account_token_env: str | None, configuration_id: str | None, grant: str | None) -> None:
    """Adopt an existing live page (or a whole account's pages; v3: a grant's configurations) into the state."""
    from . import adoption
    from .apis import Handle

    if settings.api.owner_is_secret and (configuration_id or grant):
        raise click.UsageError(f"--configuration-id and --grant are for nylas-v3 targets; this target is "
                               f"{settings.api_name}: use --page-id (or --account-token-env)")
    if not settings.api.owner_is_secret and (page_id or edit_token_env or account_token_env):
        raise click.UsageError("this target is nylas-v3: use --configuration-id ID --grant GRANT (or --grant alone)")
    owner = grant if grant and not configuration_id else None
    if account_token_env or owner:
        done = adoption.import_account(settings, owner or (_secret_input(account_token_env, "access token"),),
                                        address or "")
        for addr, page in done.adopted:
            click.echo(f"Imported page {page.id} ({page.slug}) as {addr}: wrote {settings.pages_dir}/{addr}.yaml")
        for page, reason in done.skipped:
            click.echo(f"Skipped page {page.id} ({page.slug}): {reason}.", err=True)
        click.echo(f"{len(done.adopted)} page(s) adopted, {len(done.skipped)} skipped; "
                   "`provisioner plan` should now show no changes.")
        return
    if configuration_id and grant:
        if address is None:
            raise click.UsageError("give ADDRESS --configuration-id ID --grant GRANT (or --grant GRANT alone)")
        handle = Handle(configuration_id, grant=grant)
    elif configuration_id:
        raise click.UsageError("--configuration-id needs --grant GRANT (the grant the configuration lives under)")
    elif address is None or page_id is None:
        raise click.UsageError("give ADDRESS and --page-id ID (or --account-token-env VAR)")
    else:
        handle = Handle(page_id, edit_token=_secret_input(edit_token_env, "edit token"))
    page = adoption.import_page(settings, address, handle)
    click.echo(f"Imported page {page.id} ({page.slug}) as {address}.")
    if not (settings.pages_dir / f"{address}.yaml").exists():
        click.echo(f"Next: `provisioner pull {address}` writes its page file.")


@main.command()
@click.argument("address")
@click.option("--force", is_flag=True, help="Overwrite an existing page file.")
@common
def pull(settings: Settings, address: str, force: bool) -> None:
    """Write the live page at ADDRESS as YAML to pages/ADDRESS.yaml."""
    from . import adoption

    path, differing = adoption.pull(settings, address, force)
    click.echo(f"Wrote {path}.")
    if differing:
        click.echo("Note: values from _defaults.yaml make these fields differ from the live page: "
                   + ", ".join(differing), err=True)


PREVIEW_DATES = (date(1970, 1, 1), date(9998, 1, 1))  # room for --days (366) and any time zone


def _preview_start(ctx: click.Context, param: click.Parameter, value: datetime | None) -> date | None:
    if value is None:
        return None
    if not PREVIEW_DATES[0] <= value.date() <= PREVIEW_DATES[1]:
        raise click.BadParameter(f"{value.date()} is outside {PREVIEW_DATES[0]}..{PREVIEW_DATES[1]}")
    return value.date()


@main.command()
@click.argument("address")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None, callback=_preview_start,
              help="First day (in the page's time zone)  [default: today]")
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="Days to show.")
@FORMAT
@common
def preview(settings: Settings, address: str, start: date | None, days: int, fmt: str) -> None:
    """The bookable slots of ADDRESS as written, beside the live page's: what a change adds and removes."""
    from . import workflows
    from .render import render_preview

    (result,) = workflows.preview(settings, [address], start or date.today(), days)
    click.echo(render_preview(result, fmt), nl=False)


@main.command()
@click.option("--to", "to", required=True, metavar="nylas-v3", help="The API to convert to (nylas-v3).")
@click.option("--out", type=click.Path(path_type=Path), default="pages-v3", show_default=True,
              help="Folder to write the converted page files to (never inside --dir).")
@click.option("--accept-loss", is_flag=True, help="Write even though some v2 fields do not carry over.")
@click.option("--force", is_flag=True, help="Replace --out if it exists and is not empty.")
@common
def convert(settings: Settings, to: str, out: Path, accept_loss: bool, force: bool) -> None:
    """Turn the v2 pages/ tree into v3 page files, with a field-by-field loss report; pages/ is untouched."""
    from .convert import TO_APIS, LossNotAccepted, convert_tree
    from .render.losses import render_losses

    if to not in TO_APIS:  # checked here, after the settings, so that a broken provisioner.yaml shows first
        raise click.BadParameter(f"{to!r} is not one of {', '.join(TO_APIS)}", param_hint="'--to'")
    result = convert_tree(settings, out, accept_loss=accept_loss, force=force)
    click.echo(render_losses(result), nl=False)
    if not result.written:
        raise LossNotAccepted(f"{len(result.losses)} v2 field(s) would not carry over unchanged (above); "
                              "nothing was written: pass --accept-loss to write the v3 files anyway")


@main.command()
@DEBUG
def keygen() -> None:
    """Print a new key for PROVISIONER_LOCK_KEY."""
    from .secrets import keygen as make_key

    click.echo(make_key())


@main.command()
@click.option("--api", "api_name", type=Choice(["nylas-v3", "nylas-v2"]), default="nylas-v2",
              show_default=True, help="Whose page file.")
@DEBUG
def schema(api_name: str) -> None:
    """Print the JSON Schema of a page file, for editors."""
    import json

    from .pagefile import page_schema

    click.echo(json.dumps(page_schema(api_name), indent=2, sort_keys=True))


main.add_command(state)
main.add_command(emulator)
