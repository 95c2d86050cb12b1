"""The one ADDRESS parser: whatever it accepts is a path under pages/ that prints safely."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioner.addresses import AddressError, address_problem, parse_address, parse_folder, shown

PARTS = st.sampled_from(
    ["..", ".", "", "sales", "demo", "_defaults", ".git", "a.yaml", "x\x1b", "\u202e", "é", " ", "\\"])
ADDRESSES = st.one_of(st.text(max_size=40), st.lists(PARTS, min_size=1, max_size=5).map("/".join))


@given(ADDRESSES)
def test_an_accepted_address_stays_under_pages_and_prints_as_written(text: str):
    if address_problem(text) is not None:
        with pytest.raises(AddressError):
            parse_address(text)
        return
    root = Path("/srv/repo/pages")
    resolved = Path(os.path.normpath(root / f"{text}.yaml"))
    assert root in resolved.parents
    assert text.isprintable() and shown(text) == text
    assert not text.startswith("/") and "//" not in text and not text.endswith("/")


@pytest.mark.parametrize("text", ["sales/demo", "a", "team/acct-1", "Sales Team/Démo", "x.y/z"])
def test_ordinary_addresses_are_accepted(text: str):
    assert parse_address(text) == text


def test_a_refusal_names_the_option_escapes_the_text_and_suggests_a_fix():
    with pytest.raises(AddressError, match=r"^--target 'a\\x1b\[2Jb': an address cannot contain"):
        parse_address("a\x1b[2Jb", "--target")
    with pytest.raises(AddressError, match="did you mean sales/demo"):
        parse_address("sales/demo.yaml")


def test_a_folder_may_be_pages_itself_or_end_with_a_slash():
    assert parse_folder("") == "" and parse_folder("team/") == "team"
    with pytest.raises(AddressError):
        parse_folder("/team")


@pytest.mark.parametrize("text", ["sales/demo[alice]", "demo[bob-2]", "a/b/office_hours[c_d]"])
def test_a_generated_page_address_is_accepted(text: str):
    from provisioner.addresses import split_generated

    assert parse_address(text) == text
    template, key = split_generated(text) or ("", "")
    assert f"{template}[{key}]" == text


@pytest.mark.parametrize("text", ["sales[x]/demo", "demo[]", "demo[Alice]", "demo[a]b", "demo[a][b]", "[a]",
                                  "demo]", "demo[a b]"])
def test_brackets_anywhere_else_are_refused(text: str):
    with pytest.raises(AddressError, match="sales/demo\\[alice\\]"):
        parse_address(text)


def test_commands_that_write_a_page_file_refuse_a_generated_address():
    from provisioner.addresses import parse_file_address

    assert parse_file_address("sales/demo") == "sales/demo"
    with pytest.raises(AddressError, match="has no page file of its own; edit its roster entry"):
        parse_file_address("sales/demo[alice]")
