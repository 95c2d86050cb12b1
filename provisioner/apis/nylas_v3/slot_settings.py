"""A v3 configuration read as parameters of the shared slot engine (`provisioner.slots`). Pure.

    settings_for(config)                      -> slots.Settings (method, buffers, round_to, rules per host)
    hosts_for(config, grant_of, busy)         -> [slots.Host] in participant order
    grant_resolver(config, grant)             -> grant_of: each participant's grant id

Each participant is a host whose ``account_id`` is its grant id. Its open hours are its own
``availability.open_hours`` if set, else ``default_open_hours``, else `choices.DEFAULT_OPEN_HOURS`
(`choices.OPEN_HOURS_REPLACE_DEFAULTS`); specific-time availability adds one-day rules, and
``only_specific_time_availability`` keeps only those. A rule's zone is its ``timezone``, else the
participant's, else ``event_booking.timezone``, else `choices.DEFAULT_TIMEZONE`. Days are the spec's
0 = Sunday ... 6 = Saturday.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from provisioner import slots
from provisioner.apis.nylas_v3 import choices
from provisioner.apis.nylas_v3.model import Configuration, OpenHours, Participant, SpecificTime
from provisioner.apis.nylas_v3.spec import AVAILABILITY_DEFAULTS, SCHEDULER_DEFAULTS

METHODS = {"collective": slots.COLLECTIVE, "max-fairness": slots.MAX_FAIRNESS,
           "max-availability": slots.MAX_AVAILABILITY}


def grant_resolver(config: Configuration, grant: str) -> Callable[[Participant], str]:
    """Each participant's grant: its ``grant_id``; the organizer without one: ``grant``, the
    configuration's; another participant without one: `choices.grant_id_for_email`."""
    organizer = config.organizer().email

    def grant_of(p: Participant) -> str:
        if p.grant_id:
            return p.grant_id
        return grant if p.email == organizer else choices.grant_id_for_email(p.email)

    return grant_of


def _zone_name(config: Configuration, participant: Participant | None, own: str | None) -> str:
    return (own or (participant.timezone if participant else None) or config.event_booking.timezone
            or choices.DEFAULT_TIMEZONE)


def _weekly(config: Configuration, p: Participant, account_id: str, block: OpenHours) -> slots.HoursRule:
    return slots.HoursRule(
        weekdays=frozenset((d - 1) % 7 for d in block.days),  # spec 0 = Sunday -> date.weekday() 6
        start=block.start, end=block.end, zone=ZoneInfo(_zone_name(config, p, block.timezone)),
        account_id=account_id, exdates=frozenset(date.fromisoformat(d) for d in block.exdates or ()))


def _one_day(config: Configuration, p: Participant, account_id: str, block: SpecificTime) -> slots.HoursRule:
    return slots.HoursRule(weekdays=frozenset(), start=block.start, end=block.end,
                           zone=ZoneInfo(_zone_name(config, p, block.timezone)), account_id=account_id,
                           on_date=date.fromisoformat(block.date))


def rules_for(config: Configuration, p: Participant, account_id: str) -> list[slots.HoursRule]:
    """The opening-hour rules of one participant (see the module docstring)."""
    rules = config.availability.availability_rules
    specific = [*(rules.default_specific_time_availability or [] if rules else []),
                *(p.specific_time_availability or [])]
    out = [_one_day(config, p, account_id, s) for s in specific]
    only_specific = bool(p.only_specific_time_availability or (rules and rules.only_specific_time_availability))
    if not only_specific:
        weekly = p.availability.open_hours or (rules.default_open_hours if rules else None)
        blocks = weekly or [OpenHours.model_validate(b) for b in choices.DEFAULT_OPEN_HOURS]
        out.extend(_weekly(config, p, account_id, b) for b in blocks)
    return out


def settings_for(config: Configuration, grant_of: Callable[[Participant], str]) -> slots.Settings:
    """The engine's settings for `config`; `grant_of` names each participant's grant (host id)."""
    availability, scheduler = config.availability, config.scheduler
    rules = availability.availability_rules
    buffer = rules.buffer if rules else None
    duration = availability.duration_minutes

    def sched(name: str) -> int:
        value = getattr(scheduler, name) if scheduler else None
        return int(SCHEDULER_DEFAULTS[name] if value is None else value)

    method = (rules.availability_method if rules else None) or "collective"
    return slots.Settings(
        zone=ZoneInfo(_zone_name(config, config.organizer(), None)),
        rules=tuple(r for p in config.participants for r in rules_for(config, p, grant_of(p))),
        duration_s=duration * 60,
        step_s=(availability.interval_minutes or duration) * 60,  # choices.DEFAULT_INTERVAL_IS_DURATION
        notice_s=sched("min_booking_notice") * 60,
        buffer_s=((buffer.before if buffer else None) or 0) * 60,
        buffer_after_s=((buffer.after if buffer else None) or 0) * 60,
        days=sched("available_days_in_future"),
        capacity=1,
        method=METHODS[method],
        round_s=(availability.round_to or AVAILABILITY_DEFAULTS["round_to"]) * 60,
    )


def hosts_for(config: Configuration, grant_of: Callable[[Participant], str],
              busy: Mapping[str, Sequence[slots.Interval]]) -> list[slots.Host]:
    """The participants as hosts, with the busy time `busy` gives per grant id."""
    return [slots.Host(account_id=grant_of(p), name=p.name or p.email, email=p.email,
                       booking_calendar_id=p.booking.calendar_id, busy=tuple(busy.get(grant_of(p), ())))
            for p in config.participants]
