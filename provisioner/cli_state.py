"""``provisioner state …``: inspect and edit the state without touching live pages.

Thin click commands like `provisioner.cli`'s (which registers this group): each imports the workflow
it calls when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .cli_options import ProvisionerGroup, common

if TYPE_CHECKING:
    from .settings import Settings


@click.group(cls=ProvisionerGroup)
def state() -> None:
    """Inspect and edit the lockfile without touching live pages."""


@state.command("list")
@common
def state_list(settings: Settings) -> None:
    """List the managed addresses."""
    from . import workflows

    current = workflows.state_read(settings)
    for address, resource in sorted(current.resources.items()):
        click.echo(f"{address}\tpage {resource.id}\t{resource.slug}")
    for address, slug in sorted(current.pending_creates.items()):
        click.echo(f"{address}\tpending create (outcome unknown)\t{slug}")


@state.command("show")
@click.argument("address")
@common
def state_show(settings: Settings, address: str) -> None:
    """Show one managed page as recorded (edit token redacted)."""
    import json

    from . import workflows

    r = workflows.state_show(settings, address)
    doc = {"address": r.address, "id": r.id, "slug": r.slug, "name": r.name, "prevent_destroy": r.prevent_destroy,
           "config": r.config}
    doc.update({"grant": r.grant} if r.grant is not None else {"edit_token": "(sensitive)"})  # v3 has no edit token
    click.echo(json.dumps(doc, indent=2, sort_keys=True))


@state.command("mv")
@click.argument("old")
@click.argument("new")
@common
def state_mv(settings: Settings, old: str, new: str) -> None:
    """Record that the page at OLD is now at NEW."""
    from . import workflows

    workflows.state_mv(settings, old, new)
    click.echo(f"Moved {old} -> {new}.")


@state.command("rm")
@click.argument("address")
@common
def state_rm(settings: Settings, address: str) -> None:
    """Stop managing ADDRESS (the live page is left alone)."""
    from . import workflows

    workflows.state_rm(settings, address)
    click.echo(f"Removed {address} from {settings.lockfile}; the live page is untouched.")


@state.command("migrate")
@click.option("--to", "to", required=True, metavar="DSN-or-FILE",
              help="A postgresql:// DSN or a lockfile path; it must hold no state yet.")
@common
def state_migrate(settings: Settings, to: str) -> None:
    """Move the state to another backend without touching live pages."""
    from . import workflows

    moved = workflows.state_migrate(settings, to)
    where = to.split("@")[-1] if "://" in to else to  # never echo a DSN's password
    click.echo(f"Migrated {len(moved.resources)} page(s) (serial {moved.serial}) to {where}.")
