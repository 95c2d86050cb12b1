"""`spec.strip_server_defaults` (for `pull`): the smallest configuration the server turns back into
the same one. Every default the spec names is left out, nothing else is, and normalizing the result
equals normalizing the original."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from provisioner.apis.nylas_v3 import spec
from tests.unit.v3.test_model import FULL, MINIMAL


@pytest.mark.parametrize("config", [MINIMAL, FULL], ids=["minimal", "full"])
def test_stripping_what_the_server_filled_in_gives_the_same_configuration(config: dict[str, Any]) -> None:
    live = spec.fill_server_defaults(config) | {"id": "read-only"}
    stripped = spec.strip_server_defaults(live)
    assert "id" not in stripped
    assert spec.normalize(stripped) == spec.normalize(config)
    assert spec.strip_server_defaults(spec.fill_server_defaults(stripped)) == stripped  # a fixed point


def test_a_minimal_configuration_comes_back_as_written() -> None:
    assert spec.strip_server_defaults(spec.fill_server_defaults(MINIMAL)) == MINIMAL


def test_every_default_is_left_out_and_every_other_value_kept() -> None:
    live = spec.fill_server_defaults(MINIMAL)
    live["scheduler"]["min_booking_notice"] = 61  # not the default: kept
    live["availability"]["availability_rules"]["buffer"]["after"] = 5
    stripped = spec.strip_server_defaults(live)
    assert stripped["scheduler"] == {"min_booking_notice": 61}
    assert stripped["availability"]["availability_rules"] == {"buffer": {"after": 5}}
    assert "requires_session_auth" not in stripped and "round_to" not in stripped["availability"]


def test_objects_filled_only_when_sent_stay_even_when_emptied() -> None:
    sent = copy.deepcopy(MINIMAL) | {"scheduler": {"email_template": {"show_nylas_branding": True},
                                                   "notetaker_settings": {"meeting_settings": {}}}}
    stripped = spec.strip_server_defaults(spec.fill_server_defaults(sent))
    assert stripped["scheduler"] == {"email_template": {}, "notetaker_settings": {"meeting_settings": {}}}
    assert spec.normalize(stripped) == spec.normalize(sent)


def test_input_is_not_modified() -> None:
    live = spec.fill_server_defaults(FULL)
    before = copy.deepcopy(live)
    spec.strip_server_defaults(live)
    assert live == before
