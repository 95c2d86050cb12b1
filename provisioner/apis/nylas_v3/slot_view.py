"""A v3 configuration read for `provisioner preview` (`provisioner.apis.base.SlotView`). Pure.

The same reading the v3 emulator's availability serves (`slot_settings`): the participants are the
hosts, in order, each identified by its grant (`slot_settings.grant_resolver`, as the emulator), named
by its ``name`` or e-mail. Round robin follows v3 (never-booked first, then least recently booked;
``max-fairness`` offers the less recently booked half); ``collective`` needs every participant free.
Each side (YAML, live) has its own participants.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from provisioner.apis.base import SlotView
from provisioner.apis.nylas_v3 import slot_settings
from provisioner.apis.nylas_v3.model import Configuration
from provisioner.errors import ProvisionerError


def slot_view(config: Configuration, grant: str) -> SlotView:
    grant_of = slot_settings.grant_resolver(config, grant)
    settings = slot_settings.settings_for(config, grant_of)
    hosts = tuple(slot_settings.hosts_for(config, grant_of, {}))
    return SlotView(settings, hosts, settings.zone.key, settings.duration_s // 60)


def _read(config: dict[str, Any], what: str) -> Configuration:
    try:
        return Configuration.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "config"
        raise ProvisionerError(f"cannot preview {what}: config.{where}: {first['msg']}") from None


def slot_views(desired: dict[str, Any], live: dict[str, Any] | None, grant: str,
               ) -> tuple[SlotView, SlotView | None]:
    wanted = slot_view(_read(desired, "the YAML's configuration"), grant)
    return wanted, (slot_view(_read(live, "the live configuration"), grant) if live is not None else None)
