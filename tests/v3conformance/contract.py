"""The v3 contract the tests judge the emulator by: the project's copy of Nylas's OpenAPI file, read
with the few [choice]s listed here, in one place.

`raw_spec()` is `provisioner/apis/nylas_v3/openapi.json` as committed (see `openapi_slice`).
`judged_spec()` is that document with each [choice] below applied; both the exchange judge
(`tests.v3conformance.judge`) and the property-based run (schemathesis) read it, so they agree.

Where the spec speaks, it is followed as written. The [choice]s cover only where it is silent or
contradicts itself or the official clients:

- **[choice] servers**: the spec names Nylas's hosts; the emulator answers on any host (an in-process
  transport, 127.0.0.1:PORT), so the judged document's server is ``/``.
- **[choice] a configuration's kind is its ``type``**: the spec's ``oneOf`` of a "Standard" and a
  "Group Configuration" (request bodies, answers, list items) has no discriminator, and a standard
  answer, whose properties are all optional, matches both branches, so read literally no answer could
  ever conform. A configuration with ``type: group`` is judged as a group configuration, any other as a
  standard one (``if``/``then``/``else``), so each is still held to its own schema.
- **[choice] other oneOfs read as anyOf**: the other ``oneOf``s overlap too (a conferencing object with
  ``provider`` and ``details`` matches "Auto-conferencing" and its provider's branch; the "Read-only
  object" branches match any object; "Booking cancelled" refers to a response, not a schema, and so
  matches anything). They are judged as ``anyOf``: a value must match at least one branch.
- **[choice] an answer's ``data`` is its own**: every answer is ``allOf`` the common envelope, whose
  ``data`` is an object, and the operation's ``data``; for lists (configurations, group events) that
  is an array, so read literally no list answer could conform. The envelope's ``data`` is dropped; each
  operation's own ``data`` schema stands.
- **[choice] public configurations need no session**: availability and bookings list only the
  session bearer; the v3 guide (and ``requires_session_auth: false``) make a configuration public, so
  a request without ``Authorization`` is also in the contract for those operations. Whether it is
  *allowed* is the emulator's call (401 for a private configuration); the 401 answer is judged as usual.
- **[choice] PUT is partial** (the emulator's ``choices.PUT_IS_PARTIAL``): the PUT body's schema is
  the whole configuration, with ``participants``, ``availability`` and ``event_booking`` required, while
  the spec's "Updating objects" (and both SDKs' update requests) send only the top-level fields that
  change. A PUT body is judged against the configuration schema without its top-level ``required``.
- **[choice] reschedule times are integers**: ``booking_update`` types ``start_time``/``end_time`` as
  strings, unlike every other time in the Scheduler slice (``booking_create``, time slots) and unlike
  both official SDKs, which send Unix seconds as integers. A reschedule body may carry either.
- **[choice] a blank query value is the parameter left out**: ``?page_token=`` breaks the letter of
  OpenAPI (``allowEmptyValue`` defaults to false, a keyword OpenAPI itself deprecates), but servers,
  the emulator among them, read it as no page token. The judge drops blank query values before
  validating, so a blank *required* parameter (``start_time=``) is still judged missing.
- **[choice] undocumented error statuses**: an operation lists a few error statuses (400, 401, 404,
  429, 504); an answer with another 4xx/5xx (a 404 for an unknown session, a 409, an injected 503) is
  judged against the spec's own error envelope, made strict: ``request_id`` and
  ``error {type, message}`` are required. A 2xx the operation does not list is still a violation.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "provisioner" / "apis" / "nylas_v3" / "openapi.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PUBLIC_OPERATIONS = ("get-availability", "post-bookings", "get-bookings-id", "patch-bookings-id",
                     "put-bookings-id", "delete-bookings-id")
ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["request_id", "error"],
    "properties": {
        "request_id": {"type": "string"},
        "error": {"type": "object", "required": ["type", "message"],
                  "properties": {"type": {"type": "string"}, "message": {"type": "string"}}},
    },
}

KNOWN_MISMATCHES: dict[str, str] = {}
"""Violations found, reported to the emulator's owner and awaiting a decision: a violation matching one
of these patterns (regular expressions over its text) is shown as a warning, not a failure, until the
emulator is fixed and the entry removed."""


def known_mismatch(violation: str) -> str | None:
    """Why `violation` is tolerated for now, or None when it is not."""
    return next((why for pattern, why in KNOWN_MISMATCHES.items() if re.search(pattern, violation)), None)


@cache
def _raw_text() -> str:
    return SPEC_PATH.read_text(encoding="utf-8")


def raw_spec() -> dict[str, Any]:
    """The committed copy of the spec (a fresh object each call)."""
    spec: dict[str, Any] = json.loads(_raw_text())
    return spec


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (METHOD, path, operation object) over `spec`."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                found[item[method]["operationId"]] = (method.upper(), path, item[method])
    return found


STANDARD, GROUP = "Standard Configuration", "Group Configuration"
IS_GROUP: dict[str, Any] = {"type": "object", "required": ["type"], "properties": {"type": {"const": "group"}}}


def _is_group(branch: dict[str, Any]) -> dict[str, Any]:
    """The test telling a group configuration where `branch` puts it: the value, or its ``data``."""
    if "allOf" in branch:  # an answer: common_response + {data: configuration}
        return {"type": "object", "required": ["data"], "properties": {"data": IS_GROUP}}
    return IS_GROUP


def _read_one_ofs(node: Any) -> Any:
    """`node` with its standard-or-group ``oneOf``s decided by ``type`` and every other ``oneOf`` as ``anyOf``."""
    if isinstance(node, list):
        return [_read_one_ofs(item) for item in node]
    if not isinstance(node, dict):
        return node
    read = {key: _read_one_ofs(value) for key, value in node.items()}
    branches = read.pop("oneOf", None)
    if branches is None:
        return read
    titles = [branch.get("title") for branch in branches]
    if titles == [STANDARD, GROUP]:
        read.update({"if": _is_group(branches[1]), "then": branches[1], "else": branches[0]})
    else:
        read["anyOf"] = branches
    return read


def apply_choices(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` (not changed) read with this module's [choice]s."""
    judged: dict[str, Any] = _read_one_ofs(copy.deepcopy(spec))
    judged["servers"] = [{"url": "/"}]
    ops = operations(judged)
    for operation_id in PUBLIC_OPERATIONS:
        security = ops[operation_id][2].setdefault("security", [])
        if {} not in security:
            security.append({})
    schemas = judged["components"]["schemas"]
    for envelope in ("common_response", "common_response_with_cursor"):
        schemas[envelope]["properties"].pop("data")
    schemas["configuration_update"] = {k: v for k, v in schemas["configuration"].items() if k != "required"}
    put_body = ops["put-configurations-id"][2]["requestBody"]["content"]["application/json"]["schema"]
    put_body["else"]["$ref"] = "#/components/schemas/configuration_update"
    update = schemas["booking_update"]["properties"]
    for field in ("start_time", "end_time"):
        update[field] = {"anyOf": [update[field], {"type": "integer"}]}
    for _method, _path, operation in ops.values():
        operation["responses"].setdefault("default", {
            "description": "",
            "content": {"application/json": {"schema": ERROR_ENVELOPE}},
        })
    return judged


@cache
def _judged_text() -> str:
    return json.dumps(apply_choices(raw_spec()))


def judged_spec() -> dict[str, Any]:
    """The copy read with the [choice]s (a fresh object each call)."""
    spec: dict[str, Any] = json.loads(_judged_text())
    return spec
