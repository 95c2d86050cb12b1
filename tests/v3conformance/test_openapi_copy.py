"""The project's copy of Nylas's v3 Scheduler spec: what the script makes, byte for byte, with provenance."""

from __future__ import annotations

import hashlib
import json

from openapi_spec_validator import validate

from tests.v3conformance import openapi_slice
from tests.v3conformance.contract import SPEC_PATH, operations, raw_spec

# The Scheduler operations of issue 12 (configurations, sessions, availability, bookings, v2 redirect).
SCHEDULER_OPERATIONS = {
    "get-configurations", "post-configurations", "get-configurations-id", "put-configurations-id",
    "delete-configurations-id", "post-sessions", "delete-session", "get-availability", "post-bookings",
    "get-bookings-id", "patch-bookings-id", "put-bookings-id", "delete-bookings-id", "v2-redirect",
}


def test_the_copy_is_what_the_script_makes_from_the_shared_spec() -> None:
    source = openapi_slice.DEFAULT_SOURCE
    assert source.exists(), f"{source} is missing: CI lays shared/ beside the clone (else PROVISIONER_SHARED_DIR)"
    data = source.read_bytes()
    assert SPEC_PATH.read_text(encoding="utf-8") == openapi_slice.render(openapi_slice.make_slice(data)), (
        "provisioner/apis/nylas_v3/openapi.json is stale: run python -m tests.v3conformance.openapi_slice")
    assert raw_spec()["x-slice"]["source_sha256"] == hashlib.sha256(data).hexdigest()


def test_the_copy_names_its_provenance_and_is_in_canonical_form() -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    spec = json.loads(text)
    provenance = spec["x-slice"]
    assert provenance["source"] == openapi_slice.SOURCE_NAME
    assert provenance["made_by"] == openapi_slice.SCRIPT and (openapi_slice.REPO / openapi_slice.SCRIPT).is_file()
    assert len(provenance["source_sha256"]) == 64 and provenance["source_bytes"] > 0
    assert openapi_slice.render(spec) == text  # as the script writes it, so a regeneration diffs cleanly


def test_the_copy_is_a_valid_openapi_document_with_every_scheduler_operation() -> None:
    spec = raw_spec()
    validate(spec)  # raises on an invalid document
    assert SCHEDULER_OPERATIONS <= set(operations(spec))
    assert all("/scheduling" in path for path in spec["paths"])
    assert "description" not in json.dumps(spec["paths"]["/v3/scheduling/sessions"])  # prose gone


def test_prose_is_dropped_but_properties_named_like_prose_are_kept() -> None:
    source = b"""
openapi: 3.1.0
info: {title: t, version: v, description: prose}
paths:
  /v3/scheduling/things:
    get:
      summary: prose
      description: prose
      operationId: get-things
      x-code-samples: [{lang: bash, source: curl}]
      parameters:
        - {name: q, in: query, description: prose, example: 1, schema: {type: string}}
      responses:
        '200':
          description: OK, in prose
          content:
            application/json:
              schema: {$ref: '#/components/schemas/thing'}
  /v3/grants/other:
    get: {operationId: not-scheduler, responses: {'200': {description: x}}}
components:
  schemas:
    description:
      type: object
    thing:
      type: object
      description: prose
      properties:
        description: {type: string, description: prose}
        summary: {type: string, examples: [a]}
"""
    sliced = openapi_slice.make_slice(source)
    assert list(sliced["paths"]) == ["/v3/scheduling/things"]
    get = sliced["paths"]["/v3/scheduling/things"]["get"]
    assert get == {"operationId": "get-things",
                   "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
                   "responses": {"200": {"description": "", "content": {"application/json": {
                       "schema": {"$ref": "#/components/schemas/thing"}}}}}}
    assert sliced["components"]["schemas"] == {
        "description": {"type": "object"},
        "thing": {"type": "object", "properties": {"description": {"type": "string"}, "summary": {"type": "string"}}},
    }
    assert sliced["info"] == {"title": "t", "version": "v"}
    assert sliced["x-slice"]["source_sha256"] == hashlib.sha256(source).hexdigest()
    assert openapi_slice.render(sliced) == openapi_slice.render(openapi_slice.make_slice(source))


def test_the_script_refuses_what_is_not_an_openapi_file(tmp_path, capsys) -> None:
    bad = tmp_path / "spec.yml"
    bad.write_text("just: yaml\n")
    out = tmp_path / "out.json"
    assert openapi_slice.main([str(bad), str(out)]) == 1
    assert "not an OpenAPI 3 document" in capsys.readouterr().err and not out.exists()
