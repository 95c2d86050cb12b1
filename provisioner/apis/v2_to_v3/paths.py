"""Where each v2 field goes in v3, as dotted page-file paths: the table of ``nylas-v3-scheduler.md``
as data, and `rewrite_ignore_path` for ``lifecycle.ignore_changes`` (one path syntax: the loader's,
``config.reminders[0].email_subject``)."""

from __future__ import annotations

from provisioner.apis.v2_to_v3 import rules as r

# [table] v2 field -> v3 field, dotted from the page file's top; also what `rewrite_ignore_path` uses.
FIELD_PATHS: tuple[tuple[str, str], ...] = (
    ("config.calendar_ids", "config.participants"),
    ("config.timezone", "config.event_booking.timezone"),
    ("config.disable_emails", "config.event_booking.disable_emails"),
    ("config.booking.opening_hours", "config.availability.availability_rules.default_open_hours"),
    ("config.booking.scheduling_method", "config.availability.availability_rules.availability_method"),
    ("config.booking.interval_minutes", "config.availability.interval_minutes"),
    ("config.booking.min_buffer", "config.availability.availability_rules.buffer"),
    ("config.booking.min_booking_notice", "config.scheduler.min_booking_notice"),
    ("config.booking.min_cancellation_notice", "config.scheduler.min_cancellation_notice"),
    ("config.booking.available_days_in_future", "config.scheduler.available_days_in_future"),
    ("config.booking.cancellation_policy", "config.scheduler.cancellation_policy"),
    ("config.booking.additional_fields", "config.scheduler.additional_fields"),
    ("config.booking.additional_guests_hidden", "config.scheduler.hide_additional_guests"),
    ("config.booking.confirmation_method", "config.event_booking.booking_type"),
    ("config.booking.confirmation_emails_to_host", "config.event_booking.disable_emails"),
    ("config.booking.confirmation_emails_to_guests", "config.event_booking.disable_emails"),
    ("config.event.duration", "config.availability.duration_minutes"),
    ("config.event.title", "config.event_booking.title"),
    ("config.event.location", "config.event_booking.location"),
    ("config.reminders", "config.event_booking.reminders"),
    *((f"config.appearance.{old}", f"config.appearance.{new}") for old, new in r.APPEARANCE_KEYS.items()),
    *((f"config.appearance.{key}", f"config.appearance.{key}") for key in sorted(r.APPEARANCE_FREE_KEYS)),
    ("config.appearance.thank_you_redirect", "config.scheduler.confirmation_redirect_url"),
)


SECTION_PATHS: dict[str, tuple[str, ...]] = {
    "config": ("config",),
    "config.appearance": ("config.appearance", "config.scheduler.confirmation_redirect_url"),
}
"""[choice] v2 sections that map to whole v3 sections (v3's appearance is one free map)."""


def rewrite_ignore_path(path: str) -> list[str]:
    """The v3 paths of a v2 ``ignore_changes`` path: the v3 field of a mapped field (or of the mapped
    field it lies under), or, for a section, the v3 fields of every mapped field in it. Empty when
    nothing in it survives the conversion."""
    if path in SECTION_PATHS:
        return list(SECTION_PATHS[path])
    for old, new in FIELD_PATHS:
        if path == old or path.startswith((old + ".", old + "[")):
            return [new]
    return list(dict.fromkeys(new for old, new in FIELD_PATHS if old.startswith(path + ".")))
