"""The pure core: desired + state + live -> plan, drift report and saved-plan checksum."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioner import planfile
from provisioner.apis import LivePage
from provisioner.apis.nylas_v2.api import live as as_live
from provisioner.apis.nylas_v2.model import Page
from provisioner.apis.nylas_v2.spec import fill_server_defaults, normalize
from provisioner.changes import HOSTS, Action, Hosts, Origin, Resolution, Target
from provisioner.diff import diff, under
from provisioner.drift import drift_report
from provisioner.errors import PlanRefused
from provisioner.pagefile import DesiredPage
from provisioner.plan import desired_document, fingerprint, make_plan
from provisioner.state.base import Resource, State

TARGET = Target(api_url="http://api.test")


def desired(address="team/demo", slug="demo", config=None, **kw) -> DesiredPage:
    return DesiredPage(
        address=address,
        file=Path(f"pages/{address}.yaml"),
        slug=slug,
        name=kw.pop("name", "Demo"),
        access_tokens=(SecretStr("tok-a"),),
        config=config if config is not None else {"timezone": "Europe/Paris", "event": {"duration": 30}},
        **kw,
    )


def live(config, page_id=7, slug="demo", name="Demo", hosts=("alice@example.com",)) -> LivePage:
    return as_live(Page.model_validate(
        {
            "id": page_id, "edit_token": "e" * 32, "name": name, "slug": slug,
            "access_token_infos": [{"account_email": e, "account_name": e.split("@")[0]} for e in hosts],
            "config": fill_server_defaults(config), "app_client_id": "c", "app_organization_id": 1,
            "created_at": "2026-01-01", "modified_at": "2026-01-01",
        }
    ))


def resource(config, address="team/demo", slug="demo", **kw) -> Resource:
    return Resource(address, 7, slug, SecretStr("e" * 32), "Demo", normalize(config), **kw)


def state(*resources) -> State:
    return State("lin", 3, "http://api.test", {r.address: r for r in resources})


BASE = {"timezone": "Europe/Paris", "event": {"duration": 30}}


def test_diff_paths_and_numeric_equality():
    leaves = diff({"a": {"b": [{"c": 2}]}, "n": 1}, {"a": {"b": [{"c": 3}]}, "n": 1.0})
    assert [(leaf.path, leaf.old, leaf.new) for leaf in leaves] == [("a.b[0].c", 2, 3)]
    assert under("config.appearance.color", ("config.appearance",))
    assert not under("config.appearance_x", ("config.appearance",))


def test_new_page_is_a_create_listing_its_fields():
    plan = make_plan(TARGET, {"team/demo": desired()}, state(), {})
    (page,) = plan.pages
    assert page.action is Action.CREATE
    assert ("config.event.duration", 30) in [(c.path, c.after) for c in page.changes]
    assert page.body["config"]["locale"] == "en"  # normalized: server defaults filled in


def test_converged_page_is_a_noop_despite_server_defaults_and_float_order():
    config = {**BASE, "booking": {"additional_fields": [{"name": "x", "label": "X", "type": "text", "order": 1}]}}
    plan = make_plan(TARGET, {"team/demo": desired(config=config)}, state(resource(config)),
                     {"team/demo": live(config)})
    assert [p.action for p in plan.pages] == [Action.NOOP]
    assert not plan.has_changes


def test_a_converged_desired_document_shares_the_states_config():
    """A plan holds every desired document at once (made while the refresh waits): a converged page's
    config is the state's own object, not a second copy; a changed one is its own."""
    record = resource(BASE)
    assert desired_document(desired(), last=record)["config"] is record.config
    changed = desired_document(desired(config={**BASE, "event": {"duration": 45}}), last=record)
    assert changed["config"] is not record.config and changed["config"]["event"]["duration"] == 45
    assert desired_document(desired())["config"] == record.config  # without the record: equal, not shared


def test_yaml_change_and_drift_are_labelled_apart():
    last = {**BASE, "locale": "en"}
    live_config = {**BASE, "locale": "de"}  # edited in the Schedule Editor
    wanted = {"timezone": "Europe/Paris", "event": {"duration": 45}, "locale": "en"}
    plan = make_plan(TARGET, {"team/demo": desired(config=wanted)}, state(resource(last)),
                     {"team/demo": live(live_config)})
    (page,) = plan.pages
    assert page.action is Action.UPDATE
    origins = {c.path: (c.before, c.after, c.origin) for c in page.changes}
    assert origins["config.event.duration"] == (30, 45, Origin.YAML)
    assert origins["config.locale"] == ("de", "en", Origin.DRIFT)
    assert [(d.path, d.last_applied, d.live, d.resolution) for d in page.drift] == [
        ("config.locale", "en", "de", Resolution.REVERT)
    ]


def test_ignored_paths_keep_live_values_and_report_drift_as_kept():
    last = {**BASE, "appearance": {"color": "#000000"}}
    live_config = {**BASE, "appearance": {"color": "#ff0000"}}
    page = desired(config=last, ignore_changes=("config.appearance",))
    plan = make_plan(TARGET, {"team/demo": page}, state(resource(last)), {"team/demo": live(live_config)})
    (change,) = plan.pages
    assert change.action is Action.NOOP
    assert [d.resolution for d in change.drift] == [Resolution.KEEP]
    report = drift_report(plan)
    assert report.pages and not report.has_drift  # information only


def test_gone_page_is_recreated_and_removed_page_is_deleted():
    gone = make_plan(TARGET, {"team/demo": desired()}, state(resource(BASE)), {"team/demo": None})
    assert [p.action for p in gone.pages] == [Action.RECREATE]
    assert drift_report(gone).has_drift
    removed = make_plan(TARGET, {}, state(resource(BASE, prevent_destroy=True)), {"team/demo": live(BASE)})
    assert [p.action for p in removed.pages] == [Action.DELETE]
    assert removed.blocked  # prevent_destroy is kept in the state, so deleting the file is still guarded


def test_renamed_file_with_same_slug_is_a_move():
    plan = make_plan(TARGET, {"team/new": desired(address="team/new")}, state(resource(BASE)),
                     {"team/demo": live(BASE)})
    (page,) = plan.pages
    assert (page.action, page.moved_from, page.address) == (Action.MOVE, "team/demo", "team/new")


def test_token_change_is_a_readable_hosts_line_without_tokens():
    plan = make_plan(TARGET, {"team/demo": desired()}, state(resource(BASE, tokens_digest="old")),
                     {"team/demo": live(BASE, hosts=("alice@example.com", "bob@example.com"))}, {"team/demo": "new"})
    (page,) = plan.pages
    assert page.action is Action.UPDATE and page.sends_tokens
    assert [(c.path, c.before, c.after) for c in page.changes] == [
        (HOSTS, Hosts(2, ("alice@example.com", "bob@example.com")), Hosts(1))
    ]


def test_imported_page_shows_the_hosts_write_unless_its_tokens_were_verified():
    imported = state(resource(BASE))  # tokens_digest None: the tokens were never written by provisioner
    shown = make_plan(TARGET, {"team/demo": desired()}, imported, {"team/demo": live(BASE)}, {"team/demo": "d"})
    (page,) = shown.pages
    assert page.action is Action.UPDATE and page.sends_tokens
    assert [c.path for c in page.changes] == [HOSTS]
    verified = make_plan(TARGET, {"team/demo": desired()}, imported, {"team/demo": live(BASE)}, {"team/demo": "d"},
                         hosts_verified=frozenset({"team/demo"}))
    assert [p.action for p in verified.pages] == [Action.NOOP]


def test_create_shows_its_hosts():
    (page,) = make_plan(TARGET, {"team/demo": desired()}, state(), {}, {"team/demo": "d"}).pages
    assert (HOSTS, Hosts(1)) in [(c.path, c.after) for c in page.changes] and page.sends_tokens


def test_prevent_destroy_blocks_only_a_live_delete_and_a_gone_page_is_recreated():
    protected = resource(BASE, prevent_destroy=True)
    live_delete = make_plan(TARGET, {}, state(protected), {"team/demo": live(BASE)})
    (page,) = live_delete.pages
    assert page.blocked and not page.needs_apply and live_delete.blocked == (page,)
    gone_delete = make_plan(TARGET, {}, state(protected), {"team/demo": None})
    assert not gone_delete.blocked and gone_delete.pages[0].needs_apply  # nothing to destroy: just forgotten
    recreate = make_plan(TARGET, {"team/demo": desired(prevent_destroy=True)}, state(protected), {"team/demo": None})
    (page,) = recreate.pages
    assert page.action is Action.RECREATE and not page.blocked and not page.destructive


def test_plan_order_is_fixed():
    pages = {a: desired(address=a, slug=a.replace("/", "-")) for a in ["b/x", "a/y", "a/b"]}
    plan = make_plan(TARGET, dict(reversed(list(pages.items()))), state(), {})
    assert [p.address for p in plan.pages] == ["a/b", "a/y", "b/x"]


def test_saved_plan_is_refused_when_live_changed(tmp_path):
    wanted = {**BASE, "locale": "fr"}
    before = make_plan(TARGET, {"team/demo": desired(config=wanted)}, state(resource(BASE)),
                       {"team/demo": live(BASE)})
    path = tmp_path / "plan.json"
    planfile.save(path, before, "{}", ())
    saved = planfile.load(path)
    planfile.verify(saved, before)  # the same plan passes
    edited = {**BASE, "event": {"duration": 31}}
    after = make_plan(TARGET, {"team/demo": desired(config=wanted)}, state(resource(BASE)),
                      {"team/demo": live(edited)})
    with pytest.raises(PlanRefused, match="changed since the plan"):
        planfile.verify(saved, after)
    assert fingerprint(live(BASE)) != fingerprint(live(edited))


def test_lists_of_plain_values_change_as_a_whole():
    leaves = diff({"days": ["M", "T", "W", "R", "F"], "x": [{"a": 1}]}, {"days": ["M", "W", "F", "S"], "x": [{"a": 2}]})
    assert [(leaf.path, leaf.old, leaf.new) for leaf in leaves] == [
        ("days", ["M", "T", "W", "R", "F"], ["M", "W", "F", "S"]), ("x[0].a", 1, 2)]
