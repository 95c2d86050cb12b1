"""load: discovery, addresses, _defaults merging, interpolation, validation into DesiredPage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.errors import ConfigError
from provisioner.load import ignore_path_problem, load_pages

VALID = sorted(p for p in (Path(__file__).resolve().parents[1] / "cases" / "valid").iterdir() if p.is_dir())
ENV = {"NYLAS_TOKEN_ALICE": "tok-alice-1234567", "NYLAS_TOKEN_BOB": "tok-bob-7654321"}
PAGE = "slug: {slug}\naccess_tokens:\n  - ${{NYLAS_TOKEN_ALICE}}\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def fail(pages: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_pages(pages, ENV if env is None else env)
    return info.value


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_cases(case: Path, monkeypatch: pytest.MonkeyPatch):
    env = {**ENV, **(json.loads((case / "env.json").read_text()) if (case / "env.json").exists() else {})}
    monkeypatch.chdir(case)
    pages = load_pages(Path("pages"), env)
    expected = json.loads((case / "expect.json").read_text())
    assert list(pages) == sorted(expected)
    for address, want in expected.items():
        page = pages[address]
        assert page.address == address
        got = {"slug": page.slug, "name": page.name, "config": page.config,
               "prevent_destroy": page.prevent_destroy, "ignore_changes": list(page.ignore_changes)}
        assert got == want


def test_tokens_are_resolved_into_secret_strings(tmp_path: Path):
    write(tmp_path, {"a.yaml": "slug: a\naccess_tokens:\n  - ${NYLAS_TOKEN_ALICE}\n  - ${NYLAS_TOKEN_BOB}\n"})
    page = load_pages(tmp_path, ENV)["a"]
    assert [t.get_secret_value() for t in page.access_tokens] == ["tok-alice-1234567", "tok-bob-7654321"]
    assert "tok-alice" not in repr(page) and "tok-alice" not in str(page)


def test_addresses_are_posix_paths_without_suffix_and_hidden_or_other_files_are_ignored(tmp_path: Path):
    write(tmp_path, {
        "b.yaml": PAGE.format(slug="b"), "sales/emea/demo.yml": PAGE.format(slug="demo"),
        "a.yaml": PAGE.format(slug="a"), ".hidden/x.yaml": "not: [valid", ".swap.yaml": "broken: [",
        "README.md": "# notes", "sales/notes.txt": "x",
    })
    pages = load_pages(tmp_path, ENV)
    assert list(pages) == ["a", "b", "sales/emea/demo"]
    assert pages["sales/emea/demo"].file == tmp_path / "sales" / "emea" / "demo.yml"


def test_defaults_merge_mappings_replace_lists_and_nearest_wins(tmp_path: Path):
    write(tmp_path, {
        "_defaults.yaml": "name: Everyone\nconfig:\n  event: {duration: 30, title: Meet}\n  reminders:\n"
                          "    - {delivery_method: email, delivery_recipient: both, time_before_event: 60}\n",
        "team/_defaults.yaml": "config:\n  event: {duration: 45}\n",
        "team/x.yaml": PAGE.format(slug="x") + "config:\n  reminders: []\n",
        "y.yaml": PAGE.format(slug="y") + "name: Why\n",
    })
    pages = load_pages(tmp_path, ENV)
    assert pages["team/x"].name == "Everyone"
    assert pages["team/x"].config == {"event": {"duration": 45, "title": "Meet"}, "reminders": []}
    assert pages["y"].name == "Why"
    assert pages["y"].config["event"] == {"duration": 30, "title": "Meet"}
    assert len(pages["y"].config["reminders"]) == 1


def test_a_problem_in_shared_defaults_is_reported_once_at_the_defaults_line(tmp_path: Path):
    write(tmp_path, {
        "_defaults.yaml": "config:\n  locale: klingon\n",
        "a.yaml": PAGE.format(slug="a"), "b.yaml": PAGE.format(slug="b"),
    })
    [problem] = fail(tmp_path).problems
    assert problem.file.endswith("_defaults.yaml")
    assert (problem.line, problem.field) == (2, "config.locale")


def test_a_page_value_overriding_a_bad_default_is_blamed_on_the_page(tmp_path: Path):
    write(tmp_path, {"_defaults.yaml": "config:\n  event: {duration: 30}\n",
                     "a.yaml": PAGE.format(slug="a") + "config:\n  event:\n    duration: -1\n"})
    [problem] = fail(tmp_path).problems
    assert problem.file.endswith("a.yaml") and (problem.line, problem.field) == (6, "config.event.duration")


def test_broken_defaults_skip_validation_of_pages_below_only(tmp_path: Path):
    write(tmp_path, {
        "team/_defaults.yaml": "config: [",
        "team/a.yaml": "slug: a\n",  # would lack access_tokens, but its defaults are unreadable
        "b.yaml": "slug: b\n",
    })
    rendered = fail(tmp_path).render()
    assert "team/_defaults.yaml" in rendered and "b.yaml:1:1: access_tokens is required" in rendered
    assert "team/a.yaml" not in rendered


def test_interpolation_of_values_keys_and_defaults(tmp_path: Path):
    write(tmp_path, {"a.yaml": PAGE.format(slug="a") + (
        "name: ${TEAM:-Sales} demo\nconfig:\n  calendar_ids:\n"
        "    ${ACCOUNT}:\n      booking: ${CAL:-primary}\n"
        "  appearance:\n    show_week_view: ${WEEK:-true}\n  event:\n    duration: ${DURATION}\n")})
    page = load_pages(tmp_path, {**ENV, "ACCOUNT": "acct-1", "DURATION": "30"})["a"]
    assert page.name == "Sales demo"
    assert page.config["calendar_ids"] == {"acct-1": {"booking": "primary"}}
    assert page.config["appearance"] == {"show_week_view": True}
    assert page.config["event"] == {"duration": 30}


def test_unset_variable_in_a_key_points_at_the_key(tmp_path: Path):
    write(tmp_path, {"a.yaml": PAGE.format(slug="a") + "config:\n  calendar_ids:\n    ${ACCOUNT}: {}\n"})
    [problem] = fail(tmp_path).problems
    assert (problem.line, problem.column) == (6, 5) and "ACCOUNT is not set" in problem.message


def test_yes_for_a_bool_is_refused_even_from_the_environment_but_stays_text_elsewhere(tmp_path: Path):
    write(tmp_path, {"a.yaml": PAGE.format(slug="a") + (
        "name: no\nconfig:\n  appearance:\n    show_week_view: ${WEEK}\n"
        "  event:\n    participants:\n      - {email: a@example.com, status: yes}\n")})
    [problem] = fail(tmp_path, {**ENV, "WEEK": "on"}).problems
    assert problem.field == "config.appearance.show_week_view" and problem.hint == "write true or false"
    write(tmp_path, {"a.yaml": (tmp_path / "a.yaml").read_text().replace("${WEEK}", "false")})
    page = load_pages(tmp_path, ENV)["a"]
    assert page.name == "no" and page.config["event"]["participants"][0]["status"] == "yes"


def test_file_names_are_relative_to_the_cwd_when_possible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write(tmp_path, {"pages/a.yaml": "slug: a\n"})
    monkeypatch.chdir(tmp_path)
    assert fail(tmp_path / "pages").problems[0].file == "pages/a.yaml"
    monkeypatch.chdir(tmp_path / "pages")
    assert fail(Path("../pages")).problems[0].file == "../pages/a.yaml"


def test_missing_and_empty_pages_dir(tmp_path: Path):
    assert "pages directory not found" in fail(tmp_path / "nope").render()
    assert load_pages(tmp_path, ENV) == {}


@pytest.mark.parametrize("path", ["name", "config.appearance", "config.appearance.color", "config.booking",
                                  "config.calendar_ids", "config.calendar_ids.acct-1.availability",
                                  "config.booking.opening_hours"])
def test_valid_ignore_changes_paths(path: str):
    assert ignore_path_problem(path) is None


@pytest.mark.parametrize(("path", "words"), [
    ("config", "only name and config.*"), ("slug", "only name and config.*"),
    ("access_tokens", "only name and config.*"), ("config.booking.opening_hours.0", "list items"),
    ("config.appearance.color.shade", "has no fields"), ("config.bookin.min_buffer", "'config.booking'"),
    ("config.calendar_ids.acct.booking.x", "has no fields"), ("config..locale", "no field ''"),
])
def test_invalid_ignore_changes_paths(path: str, words: str):
    found = ignore_path_problem(path)
    assert found is not None and words in " ".join(filter(None, found))
