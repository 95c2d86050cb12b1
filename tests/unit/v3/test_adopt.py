"""A live v3 configuration as a page file: clean (no server default), in the spec's order, and read
back by provisioner's loader (`yamlfile.load_yaml`, then ``${`` interpolation as for every page file)
to exactly the live values, whatever text they hold (hypothesis), then valid for the v3 model.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provisioner.apis import yamlout
from provisioner.apis.nylas_v3 import model, spec
from provisioner.apis.nylas_v3.adopt import page_document, page_yaml
from provisioner.apis.nylas_v3.client import LiveConfiguration
from provisioner.errors import ProvisionerError
from provisioner.secrets import interpolate
from provisioner.yamlfile import LOADER_RESOLVERS, load_yaml

ENV = {"SECRET": "must-never-appear", "NYLAS_API_KEY": "nyk-must-never-appear"}
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\r"), max_size=30)
SCALARS = ["1e3", "0o17", "0x1F", ".inf", "-.Inf", ".nan", "~", "null", "", "yes", "no", "on", "off", "true",
           "False", "17:00", "09:00", "1_000", "010", "0b101", "2024-01-01", "${SECRET}", "$${SECRET}",
           "$$${SECRET}", "a: b", "- x", "#c", "'q'", '"dq"', " lead", "trail ", "multi\nline\n", "tab\tin",
           "\u2028sep", "\ufeffbom", "${", "}", "$", "{a: 1}", "[1, 2]", "*alias", "&a", "!tag",
           "%yaml", "@x", "`x", "|", ">"]
# Appearance keys and additional-field names are keys (choices.KEY_PATTERN): the YAML-risky ones of those.
KEYS = ["1e3", "0x1F", "yes", "no", "on", "null", "true", "False", "010", "1_000", "0b101", "2024-01-01",
        "color", "_x", "a.b-c", "NULL", "0o17", "1.5"]

ORGANIZER = {"email": "alice@example.com", "is_organizer": True,
             "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}


def live_of(wire: dict[str, Any], config_id: str = "3f1c5a9e-0d4b-4c1e-9a55-7f2d1e0b9c11") -> LiveConfiguration:
    """What the client returns for a configuration created with ``wire`` (server defaults filled)."""
    model.validate_configuration(wire)
    return LiveConfiguration.from_wire({"id": config_id, **spec.fill_server_defaults(wire)})


def read_back(tmp_path: Path, text: str) -> dict[str, Any]:
    """The page file as the loader reads it: parsed, then every string interpolated."""
    path = tmp_path / "pulled.yaml"
    path.write_text(text, encoding="utf-8")

    def interpolated(value: Any) -> Any:
        if isinstance(value, str):
            return interpolate(value, ENV)
        if isinstance(value, list):
            return [interpolated(v) for v in value]
        if isinstance(value, dict):
            return {interpolated(k): interpolated(v) for k, v in value.items()}
        return value

    data: dict[str, Any] = interpolated(load_yaml(path, "pulled.yaml").data)
    return data


def test_a_pulled_page_holds_no_server_default_and_follows_the_spec_order(tmp_path: Path) -> None:
    wire = {
        "requires_session_auth": False,
        "event_booking": {"title": "Intro", "booking_type": "booking", "disable_emails": False},
        "availability": {"duration_minutes": 30, "round_to": 15, "availability_rules": {
            "availability_method": "collective", "buffer": {"before": 0, "after": 10},
            "default_open_hours": [{"days": [1, 2], "start": "09:00", "end": "17:00"}]}},
        "participants": [ORGANIZER],
        "slug": "intro", "name": "Intro call",
        "scheduler": {"available_days_in_future": 30, "min_booking_notice": 120},
    }
    text = page_yaml(live_of(wire), "sales/intro", "grant-organizer")
    assert text == """\
# Pulled from live configuration 3f1c5a9e-0d4b-4c1e-9a55-7f2d1e0b9c11 as sales/intro.
# It lives under grant grant-organizer; the target's API key variable reaches it.
slug: intro
name: Intro call
grant: grant-organizer
config:
  participants:
    - email: alice@example.com
      is_organizer: true
      availability:
        calendar_ids: [primary]
      booking:
        calendar_id: primary
  availability:
    duration_minutes: 30
    availability_rules:
      buffer:
        after: 10
      default_open_hours:
        - days: [1, 2]
          start: "09:00"
          end: "17:00"
  event_booking:
    title: Intro
  scheduler:
    min_booking_notice: 120
"""
    loaded = read_back(tmp_path, text)
    assert spec.normalize(loaded["config"] | {"slug": "intro", "name": "Intro call"}) == spec.normalize(wire)


def test_objects_the_server_fills_only_when_sent_stay_even_when_emptied() -> None:
    wire = {"participants": [ORGANIZER], "availability": {"duration_minutes": 30},
            "event_booking": {"title": "T"}, "scheduler": {"email_template": {"show_nylas_branding": True}}}
    doc = page_document(live_of(wire), "g")
    assert doc["config"]["scheduler"] == {"email_template": {}}
    assert spec.normalize(doc["config"]) == spec.normalize(wire)


def test_the_writers_yaml_rules_are_the_loaders() -> None:
    """yamlout cannot import the engine's loader (API packages do not), so this pins them equal."""
    written: dict[str, set[tuple[str, str]]] = {}
    for tag, regexp, firsts in yamlout.CORE_RESOLVERS:
        for first in firsts:
            written.setdefault(first or "", set()).add((tag, regexp.pattern))
    loaded = {first or "": {(tag, regexp.pattern) for tag, regexp in rules}
              for first, rules in LOADER_RESOLVERS.items()}
    assert written == loaded


def test_text_that_is_not_unicode_is_refused_with_a_clear_error() -> None:
    live = live_of({"participants": [ORGANIZER], "availability": {"duration_minutes": 30},
                    "event_booking": {"title": "T"}})
    broken = live.model_copy(update={"name": "lone \ud800 surrogate"})
    with pytest.raises(ProvisionerError, match="not valid Unicode"):
        page_yaml(broken, "a", "g")


def config_with(text: str, options: list[str], key: str) -> dict[str, Any]:
    return {
        "slug": "pulled", "name": text,
        "participants": [copy.deepcopy(ORGANIZER) | {"name": text}],
        "availability": {"duration_minutes": 30},
        "event_booking": {"title": text or "t", "description": text, "location": text},
        "appearance": {key: text},
        "scheduler": {"cancellation_policy": text, "additional_fields": {key: {
            "label": text, "type": "dropdown", "required": False, "options": options}}},
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(TEXT, st.sampled_from(SCALARS)),
       options=st.lists(st.one_of(TEXT, st.sampled_from(SCALARS)), min_size=1, max_size=4),
       key=st.sampled_from(KEYS))
@example(text="1e3", options=["0o17", ".inf", "~"], key="yes")
@example(text="${SECRET}", options=["${SECRET}", "$${SECRET}"], key="null")
def test_pull_writes_yaml_the_loader_reads_back_unchanged(tmp_path: Path, text: str, options: list[str],
                                                          key: str) -> None:
    wire = config_with(text, options, key)
    live = live_of(wire)
    loaded = read_back(tmp_path, page_yaml(live, "pulled", "grant-1e3"))

    assert (loaded.get("name"), loaded["slug"], loaded["grant"]) == (text, "pulled", "grant-1e3")
    config = loaded["config"]
    assert config["event_booking"]["title"] == (text or "t")
    assert config["appearance"] == {key: text}
    assert config["scheduler"]["additional_fields"][key]["options"] == options
    # Valid for the v3 model, and the same configuration as the live one.
    back = model.validate_configuration(config | {"slug": loaded["slug"], "name": loaded["name"]})
    assert spec.normalize(model.dump(back)) == spec.normalize(live.wire())
    assert "must-never-appear" not in repr(loaded) or "${SECRET}" in text + "".join(options)
