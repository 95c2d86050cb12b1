"""Authoring at scale, below the loader: policies on v3 configs, moves of renamed roster entries,
fairness notes and the expected share of bookings per host."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from provisioner.apis.nylas_v2.model import Config
from provisioner.changes import Action, FieldChange, PageChange, Plan, Target
from provisioner.fairness import booking_share, notes
from provisioner.pagefile import DesiredPage
from provisioner.plan import find_moves
from provisioner.policy import Policies, check, resolve
from provisioner.slots import Host
from provisioner.state.base import Resource, State


@dataclass(frozen=True)
class V3Page(DesiredPage):
    """What a v3 page gives the engine once the API seam lands: a grant and the v3 configuration."""

    grant: str | None = None


def _v2(address: str, config: dict[str, Any], tokens: int = 1, **kw: Any) -> DesiredPage:
    return DesiredPage(address, Path(f"pages/{address}.yaml"), address.replace("/", "-"), None,
                       tuple(SecretStr(f"t{i}") for i in range(tokens)), config, **kw)


def _v3(address: str, config: dict[str, Any]) -> V3Page:
    return V3Page(address, Path(f"pages/{address}.yaml"), address, None, (), config, grant="g-1")


POLICIES = Policies.model_validate({"rules": {
    "notice": {"builtin": "min_booking_notice", "min": 30},
    "rr": {"builtin": "round_robin_hosts", "min": 3},
    "buffer": {"builtin": "buffer_range", "max": 15},
    "zones": {"builtin": "allowed_timezones", "one_of": ["Europe/Paris"]},
    "branding": {"builtin": "branding_off"},
}})


def test_builtins_know_the_v3_paths():
    config = {
        "participants": [{"email": "a@x.com", "timezone": "Asia/Tokyo"}, {"email": "b@x.com"}],
        "availability": {"availability_rules": {"availability_method": "max-fairness",
                                                "buffer": {"before": 5, "after": 20}}},
        "event_booking": {"title": "Demo", "timezone": "Europe/Paris"},
        "scheduler": {"min_booking_notice": 10},
    }
    found = {(v.rule, v.problem.field) for v in check([_v3("sales/demo", config)], POLICIES)}
    assert found == {
        ("notice", "config.scheduler.min_booking_notice"),
        ("rr", "config.participants"),
        ("buffer", "config.availability.availability_rules.buffer.after"),
        ("zones", "config.participants[0].timezone"),
    }  # no branding rule on v3: it has no such field


def test_v3_absent_notice_is_the_v3_default_and_v2_rules_are_judged_on_v2_paths():
    assert not check([_v3("a", {"participants": [{"email": "a@x.com"}]})], POLICIES)  # v3 default 60 >= 30
    v2 = _v2("b", {"booking": {"scheduling_method": "round-robin-maximize-fairness"},
                   "appearance": {"show_nylas_branding": False}, "timezone": "Europe/Paris"}, tokens=2)
    assert {v.rule for v in check([v2], POLICIES)} == {"notice", "rr"}


def test_a_wildcard_path_fans_out_and_reports_absent_leaves():
    data = {"config": {"participants": [{"timezone": "A"}, {}]}}
    assert list(resolve(data, "config.participants[*].timezone")) == [
        (("config", "participants", 0, "timezone"), True, "A"),
        (("config", "participants", 1, "timezone"), False, None),
    ]


def _resource(address: str, slug: str, config: dict[str, Any] | None = None) -> Resource:
    return Resource(address, 7, slug, SecretStr("edit"), None, config or {})


def test_a_renamed_roster_entry_is_a_move_even_when_its_slug_changes():
    state = State("l", 1, "u", {"t/p[alice]": _resource("t/p[alice]", "p-alice")})
    desired = {"t/p[alicia]": _v2("t/p[alicia]", {}, renamed_from="t/p[alice]")}
    assert find_moves(desired, state) == {"t/p[alicia]": "t/p[alice]"}
    without = {"t/p[alicia]": _v2("t/p[alicia]", {})}  # slug p-alicia, no renamed_from: delete + create
    assert find_moves(without, state) == {}


def test_renamed_from_an_address_still_in_pages_is_no_move():
    state = State("l", 1, "u", {"t/p[alice]": _resource("t/p[alice]", "p-alice")})
    desired = {"t/p[alicia]": _v2("t/p[alicia]", {}, renamed_from="t/p[alice]"),
               "t/p[alice]": _v2("t/p[alice]", {})}
    assert find_moves(desired, state) == {}


def _plan(*pages: PageChange) -> Plan:
    return Plan(Target("u"), "l", 1, pages=pages)


def test_fairness_notes_for_a_round_robin_page_whose_hosts_or_method_change():
    rr = {"booking": {"scheduling_method": "round-robin-maximize-fairness"}}
    state = State("l", 1, "u", {"s/rr": _resource("s/rr", "rr", rr), "s/one": _resource("s/one", "one")})
    desired = {"s/rr": _v2("s/rr", rr, tokens=3), "s/one": _v2("s/one", {}, tokens=1),
               "s/v3": _v3("s/v3", {"availability": {"availability_rules": {"availability_method": "max-fairness"}}})}
    hosts = FieldChange("hosts", None, None)
    made = notes(_plan(PageChange("s/rr", Action.UPDATE, "rr", 7, changes=(hosts,)),
                       PageChange("s/one", Action.UPDATE, "one", 8, changes=(FieldChange("name", "a", "b"),)),
                       PageChange("s/v3", Action.UPDATE, "v3", 9,
                                  changes=(FieldChange("config.participants[2]", None, {"email": "c@x.com"}),))),
                 desired, state)
    assert len(made) == 2
    assert made[0].startswith("fairness: s/rr: the hosts change, so the rotation order changes")
    assert "a new host is offered first" in made[1] and made[1].startswith("fairness: s/v3:")
    method = FieldChange("config.booking.scheduling_method", "round-robin-maximize-fairness",
                         "round-robin-maximize-availability")
    desired["s/rr"] = _v2("s/rr", {"booking": {"scheduling_method": "round-robin-maximize-availability"}}, tokens=3)
    (text,) = notes(_plan(PageChange("s/rr", Action.UPDATE, "rr", 7, changes=(method,))), desired, state)
    assert "from round-robin-maximize-fairness to round-robin-maximize-availability" in text
    assert notes(_plan(PageChange("s/rr", Action.CREATE, "rr", changes=(hosts,))), desired, state) == ()
    # A page deleted outside and created again starts with no bookings: nothing to say about turns.
    assert notes(_plan(PageChange("s/rr", Action.RECREATE, "rr", changes=(hosts,))), desired, state) == ()


def _hosts(n: int) -> list[Host]:
    return [Host(f"acct-{i}", f"host {i}", f"h{i}@x.com", f"cal-{i}") for i in range(n)]


def test_the_expected_share_comes_from_the_slot_engine():
    week = datetime(2030, 1, 7, tzinfo=UTC), datetime(2030, 1, 14, tzinfo=UTC)
    base = {"event": {"duration": 60}, "timezone": "UTC",
            "booking": {"opening_hours": [{"days": ["M", "T", "W", "R", "F"], "start": "09:00", "end": "17:00"}]}}
    fair = Config.model_validate({**base, "booking": {**base["booking"],
                                                      "scheduling_method": "round-robin-maximize-fairness"}})
    share = dict(booking_share(fair, _hosts(3), *week))
    assert sum(share.values()) > 0 and max(share.values()) - min(share.values()) <= 1  # fairness: even
    assert booking_share(fair, _hosts(1), *week) == ()


def test_a_renamed_key_whose_slug_stays_is_a_move_without_renamed_from():
    state = State("l", 1, "u", {"t/p[alice]": _resource("t/p[alice]", "demo-ang")})  # slug from {{ handle }}
    desired = {"t/p[alicia]": DesiredPage("t/p[alicia]", Path("pages/t/_p.template.yaml"), "demo-ang", None,
                                          (SecretStr("t"),), {})}
    assert find_moves(desired, state) == {"t/p[alicia]": "t/p[alice]"}
