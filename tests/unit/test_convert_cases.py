"""The v2 -> v3 mapping, driven by case files: ``tests/cases/convert/*.yaml`` hold a v2 page, the v3
page document expected and the losses expected (path, kind, value), in the conversion's order.

Regenerate the expectations after a deliberate change with ``PROVISIONER_REGEN_CASES=1`` and review
the diff like code. Every expected document is also checked against the v3 model, so a case cannot
expect a configuration the v3 API would refuse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.apis.nylas_v2.model import Config, dump_config
from provisioner.apis.nylas_v3.model import Configuration, validate_configuration
from provisioner.apis.v2_to_v3.mapping import V2Page, convert_page, problems
from provisioner.apis.v2_to_v3.paths import FIELD_PATHS, rewrite_ignore_path
from provisioner.apis.v2_to_v3.rules import host_variable
from provisioner.apis.yamlout import dump as yaml_text
from provisioner.convert import host_ref
from provisioner.secrets import interpolate

CASES = sorted((Path(__file__).resolve().parents[1] / "cases" / "convert").glob("*.yaml"))
REGEN = os.environ.get("PROVISIONER_REGEN_CASES") == "1"


def v2_page(case: dict[str, Any]) -> V2Page:
    """The case's v2 page as the loader gives it: its config validated and dumped by the v2 model."""
    page = case["page"]
    lifecycle = page.get("lifecycle") or {}
    return V2Page(
        address=case["address"], slug=page["slug"], name=page.get("name"),
        hosts=tuple(host_ref(t) for t in page["access_tokens"]),
        config=dump_config(Config.model_validate(page.get("config") or {})),
        prevent_destroy=lifecycle.get("prevent_destroy", False),
        ignore_changes=tuple(lifecycle.get("ignore_changes") or ()), targets=tuple(page.get("targets") or ()),
    )


def resolved(value: Any, env: dict[str, str]) -> Any:
    """``value`` with every ``${VAR}`` / ``${VAR:-default}`` resolved from ``env``."""
    if isinstance(value, dict):
        return {k: resolved(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v, env) for v in value]
    return interpolate(value, env) if isinstance(value, str) else value


def v3_configuration(document: dict[str, Any], env: dict[str, str]) -> Configuration:
    """A converted page file's configuration, as the v3 API would take it (slug and name included)."""
    doc = resolved(document, env)
    body = {**doc["config"], "slug": doc["slug"], **({"name": doc["name"]} if "name" in doc else {})}
    return validate_configuration(body)


def host_env(document: dict[str, Any]) -> dict[str, str]:
    """A grant id and an e-mail for every host variable the document reads."""
    env = {}
    for index, participant in enumerate(document["config"]["participants"]):
        for key, value in (("grant_id", f"grant-{index}"), ("email", f"host{index}@example.com")):
            name = participant[key][2:].split(":-")[0].rstrip("}")
            env[name] = value
    return env


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_case(case_file: Path) -> None:
    case = yaml.safe_load(case_file.read_text())
    got = convert_page(v2_page(case))
    losses = [{"path": loss.path, "kind": loss.kind, "value": loss.value} for loss in got.losses]
    if REGEN:
        fresh = json.loads(json.dumps({**case, "expected": got.document, "losses": losses}))  # no anchors
        case_file.write_text(yaml_text(fresh))
        case = yaml.safe_load(case_file.read_text())
    assert got.document == case["expected"]
    assert losses == case["losses"]
    assert all(loss.address == case["address"] and loss.note for loss in got.losses)


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_expected_document_is_a_valid_v3_configuration(case_file: Path) -> None:
    case = yaml.safe_load(case_file.read_text())
    document = case["expected"]
    assert set(document) <= {"slug", "name", "grant", "lifecycle", "targets", "config"}
    assert problems(document) == []
    config = v3_configuration(document, host_env(document))
    assert config.participants[0].grant_id == resolved(document["grant"], host_env(document))
    if all(":-" in p["grant_id"] for p in document["config"]["participants"]):  # tokens with defaults
        assert v3_configuration(document, {}).participants  # valid with the emulator defaults alone


def test_the_first_host_is_the_organizer_and_the_grant():
    case = yaml.safe_load((CASES[0].parent / "collective.yaml").read_text())
    doc = convert_page(v2_page(case)).document
    assert doc["grant"] == "${NYLAS_GRANT_LEAD}"
    assert [p.get("is_organizer") for p in doc["config"]["participants"]] == [True, None]


def test_host_variable_rule():
    assert host_variable("NYLAS_TOKEN_ALICE", "GRANT") == "NYLAS_GRANT_ALICE"
    assert host_variable("NYLAS_ACCESS_TOKEN_BOB", "EMAIL") == "NYLAS_EMAIL_BOB"
    assert host_variable("ALICE", "GRANT") == "ALICE_GRANT"


def test_a_token_default_becomes_an_emulator_grant_and_its_email():
    ref = host_ref("${NYLAS_TOKEN_ALICE:-demo-token-alice}")
    assert ref.reference("GRANT") == "${NYLAS_GRANT_ALICE:-demo-token-alice}"
    assert ref.reference("EMAIL").startswith("${NYLAS_EMAIL_ALICE:-grant-")


def test_every_mapped_v3_path_exists_in_the_v3_model():
    """`rewrite_ignore_path` only writes paths the v3 model has (so ignore_changes stays valid)."""
    for _, new in FIELD_PATHS:
        model: Any = Configuration
        for part in new.split(".")[1:]:
            if model is None or not hasattr(model, "model_fields"):
                break  # a free map (appearance): any key
            assert part in model.model_fields, new
            annotation = model.model_fields[part].annotation
            model = next((a for a in getattr(annotation, "__args__", (annotation,))
                          if hasattr(a, "model_fields")), None)


def test_ignore_paths():
    assert rewrite_ignore_path("config.booking.min_buffer") == ["config.availability.availability_rules.buffer"]
    assert rewrite_ignore_path("config.reminders[1]") == ["config.event_booking.reminders"]
    assert rewrite_ignore_path("config.expire_after") == []
    assert "config.availability.duration_minutes" in rewrite_ignore_path("config.event")


def test_a_value_v3_refuses_is_a_problem_not_a_file():
    page = V2Page(address="long", slug="long", name=None, hosts=(host_ref("${T}"),),
                  config={"event": {"title": "Long", "duration": 2000}})
    assert problems(convert_page(page).document) == [
        ("config.availability.duration_minutes", "Input should be less than or equal to 1440")]
