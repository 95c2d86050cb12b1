"""Every **[choice]** of the v2 -> v3 conversion, the host naming rule, and the `Loss` it reports.

The mapping itself is the table at the end of ``nylas-v3-scheduler.md`` (tagged **[table]** in
`mapping`); what the table leaves open is decided here, in one place. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from provisioner.apis.nylas_v3 import choices as v3_choices
from provisioner.slots import choices as v2_slots

# --- losses --------------------------------------------------------------------------------------

LossKind = Literal["dropped", "lossy"]
"""``dropped``: the v2 value has no v3 equivalent and is left out. ``lossy``: it is carried over, but
in a form that does not mean exactly the same (two flags become one, one value becomes two, ids
that change between the versions, ...)."""


@dataclass(frozen=True)
class Loss:
    """One field of one page that does not survive the conversion unchanged."""

    address: str
    path: str  # the v2 field, dotted from the page file's top ("config.booking.min_buffer")
    kind: LossKind
    value: Any  # the v2 value (JSON-like); never a secret: access tokens are never reported by value
    note: str  # what happens to it, and what to do
    v3_path: str | None = None  # where it went, for a lossy item


# --- hosts: access tokens -> participants (grants) -----------------------------------------------

GRANT_WORD = "GRANT"
EMAIL_WORD = "EMAIL"
_TOKEN_WORD = re.compile(r"(?:ACCESS_)?TOKEN")


def host_variable(token_variable: str, word: str) -> str:
    """[choice] The variable holding a host's grant id (``word`` = GRANT) or e-mail (EMAIL), named
    after the variable of its v2 access token: ``TOKEN`` (or ``ACCESS_TOKEN``) in the name becomes
    ``word`` (``NYLAS_TOKEN_ALICE`` -> ``NYLAS_GRANT_ALICE``, ``NYLAS_EMAIL_ALICE``); a name without
    ``TOKEN`` gets ``_word`` appended (``ALICE`` -> ``ALICE_GRANT``). Accounts become grants through
    Nylas's migration tools, so the values are the user's to set; the references are what we write."""
    renamed, count = _TOKEN_WORD.subn(word, token_variable, count=1)
    return renamed if count else f"{token_variable}_{word}"


def grant_default(token_default: str) -> str:
    """[choice] A token's ``${VAR:-default}`` names one of the local emulator's demo accounts
    (PRODUCT.md §1); on the v3 emulator any grant id is a grant of its own, so the grant's default
    is the same text."""
    return token_default


def email_default(token_default: str) -> str:
    """[choice] ... and the e-mail's default is the v3 emulator's e-mail of that grant."""
    return v3_choices.grant_email_for(grant_default(token_default))


ORGANIZER_IS_FIRST_HOST = True
"""[choice] The configuration lives under the first host's grant (the page file's ``grant``): the
first access token of v2 is the organizer. A collective configuration marks it ``is_organizer``;
round-robin configurations mark no one (the v3 guide)."""

CALENDAR_ID = v3_choices.PRIMARY_ALIAS
"""[choice] Every participant reads and books on its ``primary`` calendar: v2 calendar ids are keyed
by v2 account ids and change between the versions [table], so ``config.calendar_ids`` is reported as
lossy and each participant gets ``calendar_ids: [primary]``, ``booking.calendar_id: primary`` (v3
requires both)."""

# --- round robin ---------------------------------------------------------------------------------

METHODS = {"round-robin-maximize-fairness": "max-fairness",
           "round-robin-maximize-availability": "max-availability"}  # [table]
MULTI_HOST_WITHOUT_METHOD = "max-availability"
"""[choice] A v2 page with several hosts and no ``scheduling_method`` offered each host's free slots
(the booker picked the host); v3's nearest is ``max-availability`` (a slot is offered when any host
is free, the host is picked for the booker). Reported as lossy."""
COLLECTIVE_FEATURE = "collective"
"""[choice] ``features.collective_meetings: true`` (every host attends) becomes ``collective``."""

# --- what v2 meant by a left-out field, where v3's default differs -------------------------------

V2_DURATION = v2_slots.DEFAULT_DURATION
"""[choice] ``availability.duration_minutes`` is required in v3: a left-out v2 duration becomes
v2's default (30 minutes)."""
V2_DEFAULTS_KEPT: dict[str, Any] = {
    "min_booking_notice": v2_slots.DEFAULT_MIN_NOTICE,
    "available_days_in_future": v2_slots.DEFAULT_DAYS_IN_FUTURE,
}
"""[choice] Where v3's default differs from what v2 meant by leaving a field out (v3: 60 minutes'
notice, 30 days ahead), the converted page writes v2's value, so the page books as before."""
V2_DEFAULT_OPEN_HOURS = [{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}]
"""[choice] A v2 page without ``opening_hours`` was open on weekdays 9 to 5 (`slots.choices`); the
converted page says so explicitly (with the page's zone) rather than relying on v3's default."""


def default_title(slug: str, name: str | None) -> str:
    """[choice] ``event_booking.title`` is required in v3: a left-out v2 title becomes the page's
    name, else its slug."""
    return name or slug


# --- values ---------------------------------------------------------------------------------------

DISABLE_WHEN_FLAGS_DIFFER = False
"""[choice] v2's ``confirmation_emails_to_host`` and ``confirmation_emails_to_guests`` become v3's one
``disable_emails`` [table]: both off is ``true``; when they differ, e-mails stay on (``disable_emails``
left as v2's own ``disable_emails``), since a guest without a confirmation is worse than a host with
one, and the flag that was off is reported as lossy."""

DAY_NUMBERS = {"U": 0, "M": 1, "T": 2, "W": 3, "R": 4, "F": 5, "S": 6}  # [table] U = 0, M = 1 ...
RECIPIENTS = {"customer": "guest", "owner": "host", "both": "all"}
"""[choice] v2 reminder recipients to v3's (the table maps the field, not its values)."""
BOOKING_TYPES = {"automatic": "booking", "manual": "organizer-confirmation"}  # [table]; external: none
FIELD_TYPES = {"text": "text", "multi-line text": "multi_line_text", "email": "email",
               "phone": "phone_number", "dropdown": "dropdown", "checkbox": "checkbox", "date": "date"}
"""[table] ``phone`` -> ``phone_number``; [choice] the others by meaning; ``number`` and
``multi-select list`` have no v3 type and are dropped."""
FIELD_KEY = re.compile(v3_choices.KEY_PATTERN)
APPEARANCE_KEYS = {"color": "color", "logo": "company_logo_url", "submit_text": "submit_button_label",
                   "thank_you_text": "thank_you_message"}  # [table]
APPEARANCE_FREE_KEYS = frozenset({"company_name"})
"""[choice] A v2 appearance text the hosted v3 page does not read, kept under the same key in v3's free
``appearance`` map (reported as lossy); every other v2 appearance field (the ``show_*`` switches,
``privacy_policy_redirect``, ``thank_you_text_secondary``) is dropped."""
BUFFER_MAX = v3_choices.BUFFER_RANGE[1]
DAYS_IN_FUTURE_MAX = v3_choices.DAYS_IN_FUTURE_RANGE[1]
REMINDER_MIN_MINUTES = 1  # [spec] minutes_before_event minimum
"""[choice] A value outside v3's range (buffer over 120 minutes, a horizon over 365 days, a reminder 0
minutes before) is clamped into it and reported as lossy."""

TEXT_LIMITS = {"appearance": v3_choices.APPEARANCE_VALUE_MAX, "cancellation_policy": v3_choices.LONG_TEXT_MAX}
"""[choice] v2 texts longer than v3 takes (an appearance value over 550 characters, a cancellation
policy over 8192) are cut to v3's limit and reported as lossy."""
SLUG_MAX = 64
"""[choice] v3 slugs are 1-64 characters and end with a letter or digit (`nylas_v3.choices`): a longer
v2 slug is cut, a trailing hyphen removed, and the change reported as lossy."""


def v3_slug(slug: str) -> str:
    return slug[:SLUG_MAX].rstrip("-_") or slug[:1]


PATTERN_KEPT_IF_SAFE = True
"""[choice] A v2 additional-field ``pattern`` that v3's model refuses (`nylas_v3.choices.PATTERN_SAFE_ONLY`:
a pattern that could take exponential time) is dropped and reported; the field is kept."""

ORDER_ROUNDED = True
"""[choice] v2's ``order`` is a float, v3's an integer: rounded to the nearest, lossy when not whole."""
