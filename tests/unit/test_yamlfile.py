"""yamlfile: YAML 1.2 scalars, positions, and the problems a checking loader must catch."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import ConfigError
from provisioner.yamlfile import format_path, load_yaml, loads_yaml, parse_path


def problems(text: str) -> list:
    with pytest.raises(ConfigError) as info:
        loads_yaml(text, "page.yaml")
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("n", "n"), ("Yes", "Yes"),
        ("true", True), ("false", False), ("True", True), ("FALSE", False),
        ("17:00", "17:00"), ("09:00", "09:00"), ("1:30:00", "1:30:00"),
        ("010", 10), ("0o17", 15), ("0x1f", 31), ("-3", -3), ("1_000", "1_000"),
        ("1.5", 1.5), ("1e3", 1000.0), ("~", None), ("null", None), ("", None),
        ("2024-01-31", "2024-01-31"), ("'yes'", "yes"), ('"17:00"', "17:00"),
    ],
)
def test_scalars_follow_yaml_1_2(text: str, value: object):
    data = loads_yaml(f"key: {text}\n").data
    assert data == {"key": value}
    assert type(data["key"]) is type(value)


def test_positions_of_keys_and_list_items_are_one_based():
    doc = loads_yaml("a: 1\nconfig:\n  hours:\n    - start: x\n      end: y\n    - z\n")
    assert doc.position(()) == (1, 1)
    assert doc.position("a") == (1, 1)
    assert doc.position("config.hours") == (3, 3)
    assert doc.position("config.hours[0]") == (4, 7)
    assert doc.position(("config", "hours", 0, "end")) == (5, 7)
    assert doc.position("config.hours[1]") == (6, 7)
    assert doc.position("config.missing") is None
    assert doc.locate("config.hours[0].missing.deeper") == (4, 7)


def test_paths_format_and_parse_round_trip():
    path = ("config", "booking", "opening_hours", 0, "end")
    assert format_path(path) == "config.booking.opening_hours[0].end"
    assert parse_path("config.booking.opening_hours[0].end") == path
    assert format_path(()) == ""


def test_duplicate_keys_are_all_reported_with_both_lines():
    found = problems("slug: a\nname: x\nslug: b\nconfig:\n  locale: en\n  locale: fr\n")
    assert [(p.line, p.column, p.field) for p in found] == [(3, 1, "slug"), (6, 3, "locale")]
    assert "first written on line 1" in found[0].message
    assert "first written on line 5" in found[1].message


def test_merge_keys_may_override_without_being_duplicates():
    doc = loads_yaml("base: &b {x: 1, y: 2}\npage:\n  <<: *b\n  y: 3\n")
    assert doc.data["page"] == {"x": 1, "y": 3}
    assert doc.position("page.y") == (4, 3)


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("a:\n\tb: 1\n", (2, 1), "tabs"),
        ("a: [1, 2\n", (2, 1), "flow sequence"),
        ("a: !!python/object/apply:os.system [ls]\n", (1, 4), "'!!python/object/apply:os.system' is not"),
        ("a: !!binary aGk=\n", (1, 4), "is not allowed"),
        ("a: 1\n---\nb: 2\n", (2, 1), "single document"),
        ("title: Demo: intro\n", (1, 12), "quote a value"),
    ],
)
def test_broken_yaml_is_one_problem_with_a_position(text: str, where: tuple[int, int], words: str):
    [problem] = problems(text)
    assert (problem.line, problem.column) == where
    assert words in problem.render()


def test_recursive_and_exploding_aliases_are_refused():
    [problem] = problems("a: &a [1, *a]\n")
    assert "refers to a value that contains it" in problem.message and problem.line == 1
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    )
    [problem] = problems(bomb)
    assert "aliases expand too much" in problem.message


def test_load_yaml_reads_files_and_names_them(tmp_path: Path):
    (tmp_path / "ok.yaml").write_text("slug: x\n")
    assert load_yaml(tmp_path / "ok.yaml", "pages/ok.yaml").file == "pages/ok.yaml"
    (tmp_path / "empty.yaml").write_text("# only a comment\n")
    assert load_yaml(tmp_path / "empty.yaml").data is None
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(tmp_path / "latin1.yaml", "pages/latin1.yaml")
    assert "not UTF-8" in info.value.render() and "pages/latin1.yaml" in info.value.render()
    with pytest.raises(ConfigError, match="problem"):
        load_yaml(tmp_path / "missing.yaml")


def test_a_utf8_byte_order_mark_is_no_content_and_other_encodings_are_named(tmp_path: Path):
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbfslug: x\n")
    assert load_yaml(tmp_path / "bom.yaml").data == {"slug": "x"}
    (tmp_path / "utf16.yaml").write_bytes("slug: x\n".encode("utf-16"))
    with pytest.raises(ConfigError, match="problem") as info:
        load_yaml(tmp_path / "utf16.yaml", "pages/utf16.yaml")
    assert "pages/utf16.yaml:1:1: not UTF-8 text" in info.value.render()
    (tmp_path / "late.yaml").write_bytes(b"slug: x\nname: ok\nconfig:\n  locale: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(tmp_path / "late.yaml", "pages/late.yaml")
    assert "pages/late.yaml:4:14: not UTF-8 text (byte 0xe9)" in info.value.render()


@pytest.mark.parametrize(("text", "where", "words"), [
    ("a: !!int 0x\n", (1, 4), "'0x' is not a valid !!int value"),
    ("a: !!int 0o9\n", (1, 4), "is not a valid !!int value"),
    ("a: !!float abc\n", (1, 4), "'abc' is not a valid !!float value"),
    ("a: !!bool maybe\n", (1, 4), "is not a valid !!bool value"),
    ("a: !!binary aGk=\n", (1, 4), "'!!binary' is not allowed"),
    ("a: !!timestamp x\n", (1, 4), "'!!timestamp' is not allowed"),
    ("a: !!python/object:os.system x\n", (1, 4), "is not allowed"),
    ("b: 1\na: " + "9" * 5000 + "\n", (2, 4), "thousands of digits"),
    ("a: !!int " + "9" * 5000 + "\n", (1, 4), "thousands of digits"),
    ("a: 0x" + "f" * 5000 + "\n", (1, 4), "more than 64 bits"),
    ("a: 18446744073709551616\n", (1, 4), "more than 64 bits"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", (1, 4 + 31), "nested more than 32 levels"),
    ("a: " + "[" * 100 + "]" * 100 + "\n", (1, 4 + 31), "nested more than 32 levels"),
    ("a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n", None, "nested more than 32 levels"),
    ("".join(" " * i + f"k{i}:\n" for i in range(2000)), None, "nested more than 32 levels"),
    ("? " + "[" * 2000 + "]" * 2000 + "\n: 1\n", None, "nested more than 32 levels"),
    ("a: x\nb: c\x00d\n", (2, 5), "U+0000 is not allowed"),
    ('a: "c\\0d"\n', (1, 4), "U+0000, which no page may hold"),
    ('a: "\\ud800"\n', (1, 4), "U+D800, which no page may hold"),
    ('"\\udfff": 1\n', (1, 1), "U+DFFF, which no page may hold"),
    ('a: "bell\\a"\n', (1, 4), "U+0007"),
])
def test_hostile_yaml_is_one_problem_never_a_traceback(text: str, where: tuple[int, int] | None, words: str):
    [problem] = problems(text)
    assert problem.line is not None
    if where is not None:
        assert (problem.line, problem.column) == where
    assert words in problem.render()


def test_text_may_hold_tabs_and_line_breaks():
    assert loads_yaml('a: "tab\\there\\r\\nnext"\n').data == {"a": "tab\there\r\nnext"}


@pytest.mark.parametrize("scalar", ["1" * 100_000 + "x", "1." + "1" * 100_000 + "e", "-" + "0" * 100_000 + ".e+",
                                    "0x" + "f" * 100_000 + "g", "a." * 50_000 + "[", "true" * 25_000])
def test_the_scalar_resolvers_are_linear_on_long_adversarial_scalars(scalar: str):
    assert loads_yaml(f"a: '{scalar}'\nb: {scalar}\n").data == {"a": scalar, "b": scalar}
    assert parse_path(scalar) is not None


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path):
    from provisioner.yamlfile import MAX_FILE_BYTES

    (tmp_path / "huge.yaml").write_text("slug: x\nname: " + "y" * MAX_FILE_BYTES + "\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(tmp_path / "huge.yaml", "pages/huge.yaml")
    assert "pages/huge.yaml: larger than 1024 KiB" in info.value.render()
    (tmp_path / "big.yaml").write_text("slug: x\nname: " + "y" * (MAX_FILE_BYTES - 100) + "\n")
    assert len(load_yaml(tmp_path / "big.yaml").data["name"]) == MAX_FILE_BYTES - 100
