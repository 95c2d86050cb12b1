"""`pull` writes YAML that its own loader reads back to the same values, whatever the live text holds.

Hypothesis generates the text of a live page (names, titles, options, account-id keys): YAML 1.2
scalars such as ``1e3``, ``0o17``, ``.inf``, ``~``, ``17:00``, YAML 1.1 ones such as ``yes``,
``${VAR}`` references (which must stay literal text: nothing in a live page is ever interpolated),
quotes, line breaks and control characters. The page file is written, loaded by `load_pages` as any
page file is, and compared value for value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from provisioner.adopt import page_yaml
from provisioner.apis import LivePage
from provisioner.apis.nylas_v2.api import live as as_live
from provisioner.apis.nylas_v2.model import Page
from provisioner.load import load_pages
from provisioner.secrets import escape, interpolate

ENV = {"NYLAS_TOKEN_OWNER": "tok-owner-of-the-page", "SECRET": "must-never-appear"}
# Any text a page may hold: no lone surrogates (not Unicode, so no YAML or JSON file can hold them) and
# no control characters but tab, newline and carriage return (the loader refuses them: hostile input).
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\r"), max_size=30)
SCALARS = ["1e3", "0o17", "0x1F", ".inf", "-.Inf", ".nan", "~", "null", "", "yes", "no", "on", "off", "true",
           "False", "17:00", "09:00", "1_000", "010", "0b101", "2024-01-01", "${SECRET}", "$${SECRET}",
           "$$${SECRET}", "a: b", "- x", "#c", "'q'", '"dq"', " lead", "trail ", "multi\nline\n", "tab\tin",
           "\u2028sep", "\ufeffbom", "${", "}", "$", "{a: 1}", "[1, 2]", "*alias", "&a", "!tag",
           "%yaml", "@x", "`x", "|", ">"]


def live_page(text: str, options: list[str], key: str) -> LivePage:
    return as_live(Page.model_validate({
        "id": 7, "edit_token": "edit-token-of-page-7", "slug": "pulled", "name": text,
        "config": {
            "event": {"title": text, "location": text, "duration": 30},
            "appearance": {"company_name": text},
            "booking": {"additional_fields": [{"name": "pick", "label": text, "type": "dropdown",
                                               "dropdown_options": options}]},
            "calendar_ids": {key: {"availability": [text], "booking": text}},
        },
        "access_token_infos": [{"account_email": "owner@example.com", "account_name": "Owner"}],
        "app_client_id": "app", "app_organization_id": 1, "created_at": "2024-01-01", "modified_at": "2024-01-01",
    }))


def pulled_then_loaded(tmp_path: Path, page: LivePage) -> dict[str, Any]:
    pages = tmp_path / "pages"
    pages.mkdir(exist_ok=True)
    (pages / "pulled.yaml").write_text(page_yaml(page, "pulled"), encoding="utf-8")
    desired = load_pages(pages, ENV)["pulled"]
    return {"name": desired.name, "config": desired.config}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(TEXT, st.sampled_from(SCALARS)),
       options=st.lists(st.one_of(TEXT, st.sampled_from(SCALARS)), min_size=1, max_size=4),
       key=st.one_of(TEXT.filter(bool), st.sampled_from([s for s in SCALARS if s])))
@example(text="1e3", options=["0o17", ".inf", "~"], key="17:00")
@example(text="${SECRET}", options=["${SECRET}", "$${SECRET}"], key="${SECRET}")
def test_pull_writes_yaml_its_loader_reads_back_unchanged(tmp_path: Path, text: str, options: list[str], key: str):
    page = live_page(text, options, key)
    loaded = pulled_then_loaded(tmp_path, page)
    assert loaded["name"] == text
    config = loaded["config"]
    assert config["event"]["title"] == config["event"]["location"] == text
    assert config["appearance"]["company_name"] == text
    assert config["booking"]["additional_fields"][0]["dropdown_options"] == options
    assert config["booking"]["additional_fields"][0]["label"] == text
    assert config["calendar_ids"] == {key: {"availability": [text], "booking": text}}
    assert "must-never-appear" not in repr(loaded) or "must-never-appear" in text + key + "".join(options)


@given(st.one_of(TEXT, st.sampled_from(SCALARS)))
def test_escape_is_undone_by_interpolation(text: str):
    assert interpolate(escape(text), {"SECRET": "must-never-appear"}) == text


def test_a_live_reference_is_written_escaped_and_never_resolved(tmp_path: Path):
    page = live_page("Hi ${SECRET} and ${NYLAS_TOKEN_OWNER}", ["${SECRET:-x}"], "acct")
    text = page_yaml(page, "pulled")
    assert "$${SECRET}" in text and "- ${NYLAS_TOKEN_OWNER}" in text  # only the token is a reference
    loaded = pulled_then_loaded(tmp_path, page)
    assert loaded["name"] == "Hi ${SECRET} and ${NYLAS_TOKEN_OWNER}"
    assert "must-never-appear" not in repr(loaded) and "tok-owner-of-the-page" not in repr(loaded)


def test_lists_are_laid_out_like_the_example_pages():
    """Lists indented under their key, scalar lists inline: as pages/ is written by hand."""
    text = page_yaml(live_page("Demo", ["1-10", "11-100"], "acct"), "pulled")
    assert "access_tokens:\n  - ${NYLAS_TOKEN_OWNER}\n" in text
    assert "    additional_fields:\n      - name: pick\n" in text
    assert "dropdown_options: [1-10, 11-100]" in text
    assert "\n- " not in text  # no list flush with its key


@pytest.mark.parametrize("scalar", ["1e3", "0o17", ".inf", "~", "yes", "17:00", "null", "true", "0x1F"])
def test_scalars_the_loader_would_retype_are_quoted(scalar: str):
    text = page_yaml(live_page(scalar, [scalar], "acct"), "pulled")
    assert f"name: {scalar}\n" not in text
