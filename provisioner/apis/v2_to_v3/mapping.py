"""One v2 page -> one v3 page document and the `Loss`es on the way (the table, plus `rules`).

`convert_page` takes a `V2Page`: the page's validated v2 wire config (left-out fields absent, as the
loader returns it) and its hosts as variable references, never token values. It returns the v3 page
document ``{slug, name, grant, lifecycle, targets, config}``, where ``config`` is a v3 configuration
object (`nylas_v3.model.Configuration`) with ``${VAR}`` references for grants and e-mails, and every
loss sorted by v2 path. Pure: no I/O, the input is not modified.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from provisioner.apis.nylas_v3.model import AdditionalField as V3Field
from provisioner.apis.nylas_v3.model import validate_configuration
from provisioner.apis.v2_to_v3 import rules as r
from provisioner.apis.v2_to_v3.paths import FIELD_PATHS, rewrite_ignore_path
from provisioner.apis.v2_to_v3.rules import Loss, LossKind


@dataclass(frozen=True)
class HostRef:
    """One v2 access token, as the ``${VAR}`` / ``${VAR:-default}`` reference written for it."""

    variable: str
    default: str | None = None

    def reference(self, word: str) -> str:
        name = r.host_variable(self.variable, word)
        if self.default is None:
            return f"${{{name}}}"
        default = r.grant_default(self.default) if word == r.GRANT_WORD else r.email_default(self.default)
        return f"${{{name}:-{default}}}"


@dataclass(frozen=True)
class V2Page:
    address: str
    slug: str
    name: str | None
    hosts: tuple[HostRef, ...]
    config: dict[str, Any]  # v2 wire config, left-out fields absent
    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


@dataclass
class Converted:
    address: str
    document: dict[str, Any]
    losses: list[Loss] = field(default_factory=list)


class _Page:
    """The conversion of one page: the v3 configuration being built and the losses found."""

    def __init__(self, page: V2Page):
        self.page = page
        self.losses: list[Loss] = []
        self.cfg = page.config
        self.booking: dict[str, Any] = self.cfg.get("booking") or {}
        self.event: dict[str, Any] = self.cfg.get("event") or {}

    def loss(self, path: str, kind: LossKind, value: Any, note: str, v3_path: str | None = None) -> None:
        self.losses.append(Loss(self.page.address, path, kind, value, note, v3_path))

    def drop(self, path: str, value: Any, note: str = "no v3 equivalent") -> None:
        self.loss(path, "dropped", value, note)

    # --- participants and round robin ------------------------------------------------------------

    def method(self) -> str:
        several = len(self.page.hosts) > 1
        wanted = self.booking.get("scheduling_method")
        if (self.cfg.get("features") or {}).get("collective_meetings"):
            if wanted:
                self.drop("config.booking.scheduling_method", wanted, "a collective page needs every host")
            return r.COLLECTIVE_FEATURE
        if wanted:
            if wanted == "round-robin-maximize-fairness":
                self.loss("config.booking.scheduling_method", "lossy", wanted,
                          "max-fairness: v2's rotation history does not carry over, and v3 offers the "
                          "least recently booked half of the hosts", "config.availability.availability_rules"
                          ".availability_method")
            return r.METHODS[wanted]
        if several:
            self.loss("access_tokens", "lossy", len(self.page.hosts),
                      f"several hosts without scheduling_method: v3 {r.MULTI_HOST_WITHOUT_METHOD} offers a "
                      "slot when any host is free and picks the host", "config.availability.availability_rules")
            return r.MULTI_HOST_WITHOUT_METHOD
        return "collective"

    def participants(self, method: str) -> list[dict[str, Any]]:
        out = []
        for index, host in enumerate(self.page.hosts):
            p: dict[str, Any] = {"email": host.reference(r.EMAIL_WORD), "grant_id": host.reference(r.GRANT_WORD)}
            if method == "collective" and index == 0:
                p["is_organizer"] = True
            p["availability"] = {"calendar_ids": [r.CALENDAR_ID]}
            p["booking"] = {"calendar_id": r.CALENDAR_ID}
            out.append(p)
        for account, selection in sorted((self.cfg.get("calendar_ids") or {}).items()):
            self.loss(f"config.calendar_ids.{account}", "lossy", selection,
                      f"calendar ids change between versions: each participant uses '{r.CALENDAR_ID}'; "
                      "set participants[].availability.calendar_ids after migrating", "config.participants")
        return out

    # --- availability ----------------------------------------------------------------------------

    def open_hours(self) -> list[dict[str, Any]]:
        zone = self.cfg.get("timezone")
        written = self.booking.get("opening_hours")
        blocks = []
        for index, block in enumerate(written or []):
            path = f"config.booking.opening_hours[{index}]"
            if block.get("account_id") is not None and len(self.page.hosts) > 1:
                self.drop(path, block, "hours of one account of several: v3 sets them per participant, and "
                          "which participant was that account is not known offline")
                continue
            if block.get("account_id") is not None:
                self.loss(f"{path}.account_id", "lossy", block["account_id"],
                          "the page's only host: its hours become the configuration's",
                          "config.availability.availability_rules.default_open_hours")
            days = sorted(r.DAY_NUMBERS[d] for d in block["days"])
            blocks.append({"days": days, "start": block["start"], "end": block["end"]})
        if written:
            self.loss("config.booking.opening_hours", "lossy", written,
                      "day letters become integers (U = 0, M = 1 ... S = 6)"
                      + (f" and the page's zone {zone} moves into each block" if zone else ""),
                      "config.availability.availability_rules.default_open_hours")
        elif written is None or written == []:
            blocks = [dict(b) for b in r.V2_DEFAULT_OPEN_HOURS]
        if zone:
            for b in blocks:
                b["timezone"] = zone
        return blocks

    def availability(self, method: str) -> dict[str, Any]:
        out: dict[str, Any] = {"duration_minutes": self.event.get("duration", r.V2_DURATION)}
        if "interval_minutes" in self.booking:
            out["interval_minutes"] = self.booking["interval_minutes"]
        rules: dict[str, Any] = {"availability_method": method}
        if "min_buffer" in self.booking:
            value = self.booking["min_buffer"]
            both = min(value, r.BUFFER_MAX)
            clamped = f"; clamped to v3's maximum {r.BUFFER_MAX}" if both != value else ""
            self.loss("config.booking.min_buffer", "lossy", value,
                      f"one value becomes two: buffer.before and buffer.after = {both}{clamped}",
                      "config.availability.availability_rules.buffer")
            rules["buffer"] = {"before": both, "after": both}
        hours = self.open_hours()
        if hours:
            rules["default_open_hours"] = hours
        out["availability_rules"] = rules
        return out

    # --- event booking ---------------------------------------------------------------------------

    def event_booking(self) -> dict[str, Any]:
        page = self.page
        out: dict[str, Any] = {"title": self.event.get("title") or r.default_title(page.slug, page.name)}
        if "location" in self.event:
            out["location"] = self.event["location"]
        if "timezone" in self.cfg:
            out["timezone"] = self.cfg["timezone"]
        for key in ("template_title", "participants"):
            if key in self.event:
                self.drop(f"config.event.{key}", self.event[key])
        capacity = self.event.get("capacity")
        if capacity is not None and capacity != 1:
            self.drop("config.event.capacity", capacity,
                      "a capacity other than 1 is a v3 group configuration, not supported yet")
        method = self.booking.get("confirmation_method")
        if method == "external":
            self.drop("config.booking.confirmation_method", method, "no v3 booking type confirms externally; "
                      "bookings are confirmed at once")
        elif method is not None:
            out["booking_type"] = r.BOOKING_TYPES[method]
        disable = self.disable_emails()
        if disable is not None:
            out["disable_emails"] = disable
        reminders = self.reminders()
        if reminders:
            out["reminders"] = reminders
        for key in ("calendar_invite_to_guests", "name_field_hidden"):
            if key in self.booking:
                self.drop(f"config.booking.{key}", self.booking[key])
        return out

    def disable_emails(self) -> bool | None:
        host = self.booking.get("confirmation_emails_to_host")
        guests = self.booking.get("confirmation_emails_to_guests")
        disabled = self.cfg.get("disable_emails")
        if host is not None and guests is not None and host != guests and not disabled:
            for key, value in (("confirmation_emails_to_host", host), ("confirmation_emails_to_guests", guests)):
                self.loss(f"config.booking.{key}", "lossy", value,
                          "two flags become one: v3 sends e-mails to everyone or no one; kept on",
                          "config.event_booking.disable_emails")
            return disabled or r.DISABLE_WHEN_FLAGS_DIFFER or None
        if host is False and guests is False:
            return True
        if (host is False) != (guests is False) and not disabled:  # one flag off, the other left out (on)
            key = "confirmation_emails_to_host" if host is False else "confirmation_emails_to_guests"
            self.loss(f"config.booking.{key}", "lossy", False,
                      "two flags become one: v3 sends e-mails to everyone or no one; kept on",
                      "config.event_booking.disable_emails")
            return disabled or r.DISABLE_WHEN_FLAGS_DIFFER or None
        return disabled

    def reminders(self) -> list[dict[str, Any]]:
        out = []
        for index, item in enumerate(self.cfg.get("reminders") or []):
            path = f"config.reminders[{index}]"
            minutes = item["time_before_event"]
            if minutes < r.REMINDER_MIN_MINUTES:
                self.loss(f"{path}.time_before_event", "lossy", minutes,
                          f"v3 reminds at least {r.REMINDER_MIN_MINUTES} minute before",
                          "config.event_booking.reminders")
            reminder: dict[str, Any] = {"type": item["delivery_method"],
                                        "recipient": r.RECIPIENTS[item["delivery_recipient"]],
                                        "minutes_before_event": max(minutes, r.REMINDER_MIN_MINUTES)}
            if "email_subject" in item:
                reminder["email_subject"] = item["email_subject"]
            if "webhook_url" in item:
                self.drop(f"{path}.webhook_url", item["webhook_url"], "no per-page webhook URL in v3: "
                          "booking.reminder webhooks go to the application's webhook subscriptions")
            out.append(reminder)
        return out

    # --- scheduler and appearance ----------------------------------------------------------------

    def scheduler(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("min_booking_notice", "min_cancellation_notice", "available_days_in_future", "cancellation_policy"):
            if key == "cancellation_policy" and key in self.booking:
                out[key] = self.cut(f"config.booking.{key}", self.booking[key], key, f"config.scheduler.{key}")
            elif key in self.booking:
                out[key] = self.booking[key]
            elif key in r.V2_DEFAULTS_KEPT:
                out[key] = r.V2_DEFAULTS_KEPT[key]
        days = out.get("available_days_in_future")
        if days is not None and days > r.DAYS_IN_FUTURE_MAX:
            self.loss("config.booking.available_days_in_future", "lossy", days,
                      f"clamped to v3's maximum {r.DAYS_IN_FUTURE_MAX}", "config.scheduler.available_days_in_future")
            out["available_days_in_future"] = r.DAYS_IN_FUTURE_MAX
        if "additional_guests_hidden" in self.booking:
            out["hide_additional_guests"] = self.booking["additional_guests_hidden"]
        fields = self.additional_fields()
        if fields:
            out["additional_fields"] = fields
        redirect = (self.cfg.get("appearance") or {}).get("thank_you_redirect")
        if redirect:
            out["confirmation_redirect_url"] = redirect
        return out

    def additional_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for index, item in enumerate(self.booking.get("additional_fields") or []):
            path = f"config.booking.additional_fields[{index}]"
            kind = r.FIELD_TYPES.get(item["type"])
            if kind is None:
                self.drop(path, item, f"the field type {item['type']!r} has no v3 equivalent")
                continue
            if not r.FIELD_KEY.fullmatch(item["name"]):
                self.drop(path, item, "its name cannot be a v3 field key (letters, digits, '_', '.', '-')")
                continue
            new: dict[str, Any] = {"label": item["label"], "type": kind, "required": item.get("required", False)}
            if "pattern" in item:
                try:
                    V3Field.model_validate({**new, "pattern": item["pattern"]})
                    new["pattern"] = item["pattern"]
                except ValidationError:
                    self.drop(f"{path}.pattern", item["pattern"], "v3 refuses this pattern (it could take "
                              "exponential time, or is no valid expression): the field is kept without it")
            if "order" in item:
                new["order"] = math.floor(item["order"] + 0.5)  # rules.ORDER_ROUNDED: half up
                if new["order"] != item["order"]:
                    self.loss(f"{path}.order", "lossy", item["order"], f"v3 orders by integers: {new['order']}",
                              "config.scheduler.additional_fields")
            if item.get("dropdown_options"):
                new["options"] = item["dropdown_options"]
            out[item["name"]] = new
        return out

    def appearance(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in sorted((self.cfg.get("appearance") or {}).items()):
            path = f"config.appearance.{key}"
            if key in r.APPEARANCE_KEYS:
                if value != "":  # the v2 server's "no logo"
                    out[r.APPEARANCE_KEYS[key]] = self.cut(path, value, "appearance", f"config.appearance.{key}")
            elif key in r.APPEARANCE_FREE_KEYS:
                out[key] = self.cut(path, value, "appearance", path)
                self.loss(path, "lossy", value, "kept in v3's free appearance map; the hosted page does not read it",
                          path)
            elif key != "thank_you_redirect":
                self.drop(path, value)
        return out

    def cut(self, path: str, value: str, limit: str, v3_path: str) -> str:
        """``value`` within v3's length limit for ``limit`` (`rules.TEXT_LIMITS`), reported if cut."""
        most = r.TEXT_LIMITS[limit]
        if len(value) <= most:
            return value
        self.loss(path, "lossy", value, f"cut to v3's {most} characters", v3_path)
        return value[:most]

    # --- the page --------------------------------------------------------------------------------

    def dropped_top_level(self) -> None:
        for key in ("expire_after", "locale", "locale_for_guests", "features"):
            value = self.cfg.get(key)
            if key == "features" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k != "collective_meetings" and v}
            if value not in (None, {}):
                self.drop(f"config.{key}", value)

    def config(self) -> dict[str, Any]:
        method = self.method()
        out: dict[str, Any] = {"participants": self.participants(method),
                               "availability": self.availability(method),
                               "event_booking": self.event_booking()}
        scheduler, appearance = self.scheduler(), self.appearance()
        if scheduler:
            out["scheduler"] = scheduler
        if appearance:
            out["appearance"] = appearance
        self.dropped_top_level()
        return out

    def lifecycle(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.page.prevent_destroy:
            out["prevent_destroy"] = True
        paths: list[str] = []
        for index, path in enumerate(self.page.ignore_changes):
            new = rewrite_ignore_path(path)
            where = f"lifecycle.ignore_changes[{index}]"
            if not new:
                self.drop(where, path, "nothing under this path has a v3 equivalent")
            elif any(path.startswith((old + ".", old + "[")) for old, _ in FIELD_PATHS):
                self.loss(where, "lossy", path, f"v3 has no such part of it: the whole {new[0]} is ignored",
                          "lifecycle.ignore_changes")
            paths += new
        if paths:
            out["ignore_changes"] = list(dict.fromkeys(paths))
        return out


def problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(v3 path, message) for everything the v3 model refuses in a converted document, with its host
    references standing for valid values: empty unless the mapping missed a case (then nothing may
    be written)."""
    config = dict(document["config"])
    config["participants"] = [{**p, "email": f"host{i}@example.com", "grant_id": f"grant-{i}"}
                              for i, p in enumerate(config["participants"])]
    try:
        validate_configuration({**config, "slug": document["slug"]})
    except ValidationError as e:
        return [("config." + ".".join(str(part) for part in error["loc"]), error["msg"])
                for error in e.errors(include_input=False, include_url=False)]
    except ValueError as e:  # a group configuration: never made here
        return [("config", str(e))]
    return []


def convert_page(page: V2Page) -> Converted:
    """The v3 page document of one v2 page, and its losses sorted by path."""
    if not page.hosts:
        raise ValueError(f"{page.address}: a page needs at least one host")
    work = _Page(page)
    config = work.config()
    slug = r.v3_slug(page.slug)
    if slug != page.slug:
        work.loss("slug", "lossy", page.slug, f"v3 slugs are at most {r.SLUG_MAX} characters, ending with a "
                  f"letter or digit: {slug}", "slug")
    doc: dict[str, Any] = {"slug": slug}
    if page.name is not None:
        doc["name"] = page.name
    doc["grant"] = page.hosts[0].reference(r.GRANT_WORD)  # rules.ORGANIZER_IS_FIRST_HOST
    lifecycle = work.lifecycle()
    if lifecycle:
        doc["lifecycle"] = lifecycle
    if page.targets:
        doc["targets"] = list(page.targets)
    doc["config"] = config
    return Converted(page.address, doc, sorted(work.losses, key=lambda loss: (loss.path, loss.kind)))
