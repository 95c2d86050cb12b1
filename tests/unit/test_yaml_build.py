"""yamlfile.build gives what PyYAML's constructor gives: the same data (aliases the same objects), the same
problems in the same order, the same first error; on every YAML file of the repository and on samples
written to tell a breadth-first builder from a depth-first one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner import yamlfile
from provisioner.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(p for pattern in ("*.yaml", "*.yml") for p in REPO.glob(f"[!.]*/**/{pattern}")
               if "node_modules" not in p.parts)
SAMPLES = {
    "errors in two levels": "a:\n  x: !!int bad\nb: !!int worse\n",
    "a deeper error first in the file": "a:\n  x: {q: !!int bad}\nb:\n  y: !!int worse\n",  # not depth first
    "a deeper error last in the file": "a:\n  x: !!int bad\nb:\n  y: {z: !!int worse}\n",  # first in, first out
    "duplicates in two levels": "a:\n  x: 1\n  x: 2\nb: 1\nb: 2\nc: [{y: 1, y: 2}]\n",
    "aliases": "base: &b {k: [1, 2]}\none: *b\ntwo: [*b, *b]\n",
    "alias of a scalar": "a: &s 017\nb: *s\nc: &t text\nd: *t\n",
    "tags": "a: !!str 12\nb: !!int '0x1F'\nc: !!float '1e3'\nd: !!bool true\ne: !!null ''\nf: !!map {x: 1}\n",
    "a tag on a mapping": "a: !!str {x: 1}\n",
    "an unknown tag deep down": "a:\n  b: [1, !custom 2]\nc: !!int nope\n",
    "a complex key": "? [a, b]\n: 1\n",
    "a scalar key of another type": "1: one\ntrue: yes\n~: nothing\n1.5: half\n",
    "a value key": "!!value x: 1\n",
    "merge keys": "base: &b {k: 1}\nother:\n  <<: *b\n  j: 2\n",
    "a null document": "~\n",
    "a scalar document": "just text\n",
    "a list document": "- 1\n- [2, {a: 3}]\n",
    "integers": "a: 0o17\nb: -0x1f\nc: 99999999999999999999999\n",
    "a list tag on a scalar": "a: !!seq x\nb: [!!map y]\n",  # was built as [] and {}: PyYAML refuses it
    "a list tag on a scalar key": "!!seq x: 1\n",  # was a TypeError (an unhashable key)
    "a list tag on a scalar document": "!!seq x\n",
    "a bad key and a bad value": "{!!int x: !!bool '1'}\n",  # the key's error first: it is built first
    "a list tag on a key, an error before it": "{a: !!bool x, !!map k: 1}\n",  # PyYAML fails on the key first
    "a list tag on a key under a null key": "{~: {!!map x: 1}}\n",  # PyYAML: found unhashable key
}


def _both(load: Callable[[], yamlfile.YamlDoc], monkeypatch: pytest.MonkeyPatch) -> list[object]:
    out: list[object] = []
    for direct in (True, False):
        with monkeypatch.context() as patch:
            if not direct:
                patch.setattr(yamlfile, "build", lambda loader, node: loader.construct_document(node))
            try:
                doc = load()
                out.append((doc.data, doc.positions, _shared(doc.data)))
            except ConfigError as e:
                out.append(e.problems)
    return out


def _shared(data: object) -> list[tuple[int, int]]:
    """Which containers are the same object (as an alias makes them), by their order of appearance."""
    seen: dict[int, int] = {}
    pairs = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            if id(item) in seen:
                pairs.append((seen[id(item)], len(seen)))
                continue
            seen[id(item)] = len(seen)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return pairs


def test_the_repository_has_yaml_files_to_compare():
    assert len(FILES) > 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_yaml_file_of_the_repository(path: Path, monkeypatch: pytest.MonkeyPatch):
    direct, constructed = _both(lambda: yamlfile.load_yaml(path, path.name), monkeypatch)
    assert direct == constructed


@pytest.mark.parametrize("name", SAMPLES)
def test_samples(name: str, monkeypatch: pytest.MonkeyPatch):
    direct, constructed = _both(lambda: yamlfile.loads_yaml(SAMPLES[name], "sample.yaml"), monkeypatch)
    assert direct == constructed


@pytest.mark.parametrize(("name", "line"), [("a deeper error first in the file", 4),
                                            ("a deeper error last in the file", 2)])
def test_the_first_error_is_the_one_a_breadth_first_build_meets(name: str, line: int):
    with pytest.raises(ConfigError) as info:
        yamlfile.loads_yaml(SAMPLES[name], "s.yaml")
    assert [p.line for p in info.value.problems] == [line]
