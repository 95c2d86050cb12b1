"""Make `provisioner/apis/nylas_v3/openapi.json`, the project's copy of Nylas's v3 Scheduler contract.

The source is Nylas's own OpenAPI file as kept in the shared folder beside the repository
(``../shared/reference/nylas-v3-scheduler-openapi.yml``). The copy keeps every ``/scheduling`` path,
its parameters, request bodies, responses, security and every component, unchanged; it drops the prose
(``description``, ``summary``, code samples, examples; a Response object keeps an empty
``description``, which OpenAPI requires), which the tests do not read and which would
only make diffs of a refreshed spec noisy. Property *names* that happen to be ``description`` or
``summary`` (an event's ``description``) are data, not prose, and are kept.

The copy records its provenance under the top-level ``x-slice`` key: the source file, its sha256 and
size, and this script. The output depends only on the source's bytes, so a fresh clone regenerates the
same file byte for byte; ``tests/v3conformance/test_openapi_copy.py`` checks that whenever the shared
folder is there (CI has it).

Regenerate after the shared spec changes::

    python -m tests.v3conformance.openapi_slice [SOURCE] [OUT]

(``PROVISIONER_SHARED_DIR`` names the shared folder when it is not ``../shared``, as in a worktree.)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SOURCE_NAME = "shared/reference/nylas-v3-scheduler-openapi.yml"  # as recorded: relative to the repo's parent
# The shared folder sits beside the clone (CI's layout); PROVISIONER_SHARED_DIR points elsewhere (a worktree).
SHARED_DIR = Path(os.environ.get("PROVISIONER_SHARED_DIR") or REPO.parent / "shared")
DEFAULT_SOURCE = SHARED_DIR / "reference" / "nylas-v3-scheduler-openapi.yml"
DEFAULT_OUT = REPO / "provisioner" / "apis" / "nylas_v3" / "openapi.json"
SCRIPT = "tests/v3conformance/openapi_slice.py"

# Keywords of prose, dropped wherever they are keywords (never where they name a property or a component).
PROSE = ("description", "summary", "x-code-samples", "example", "examples")
# Objects whose keys are names chosen by the spec's authors, not OpenAPI or JSON Schema keywords.
NAME_MAPS = frozenset({"paths", "schemas", "parameters", "requestBodies", "securitySchemes", "headers",
                       "content", "properties", "patternProperties", "$defs", "mapping", "links", "callbacks",
                       "encoding", "variables"})


def strip_prose(node: Any, kind: str = "node") -> Any:
    """`node` without prose keywords. `kind` says what `node` is: ``names`` (its keys are names, kept
    whatever they are), ``responses`` (names of Response objects), ``response`` (a Response object, whose
    ``description`` OpenAPI requires: kept, emptied) or any other ``node``."""
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    if kind in ("names", "responses"):
        return {key: strip_prose(value, "response" if kind == "responses" else "node") for key, value in node.items()}
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description" and kind == "response":
            kept[key] = ""
        elif key not in PROSE:
            kept[key] = strip_prose(value, "responses" if key == "responses" else
                                    "names" if key in NAME_MAPS else "node")
    return kept


def make_slice(source: bytes) -> dict[str, Any]:
    """The copy made from the spec file's bytes: the Scheduler paths and all components, prose dropped."""
    spec = yaml.safe_load(source)
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3."):
        raise ValueError("not an OpenAPI 3 document")
    paths = {path: item for path, item in spec["paths"].items() if "/scheduling" in path}
    provenance = {
        "source": SOURCE_NAME,
        "source_sha256": hashlib.sha256(source).hexdigest(),
        "source_bytes": len(source),
        "made_by": SCRIPT,
        "kept": "every path containing /scheduling, unchanged, and every component",
        "dropped_keywords": list(PROSE),
    }
    rest = {key: value for key, value in spec.items() if key not in ("openapi", "paths")}
    return strip_prose({"openapi": spec["openapi"], "x-slice": provenance, "paths": paths, **rest})


def render(sliced: dict[str, Any]) -> str:
    """The file's text: stable key order (the spec's own), two-space indent, a final newline."""
    return json.dumps(sliced, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    try:
        text = render(make_slice(source.read_bytes()))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"openapi_slice: {source}: {exc}", file=sys.stderr)
        return 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(text)} characters) from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
