"""The loss report of `convert` (text): a golden file per state (UPDATE_GOLDENS=1 rewrites), and text
from the page files never acting on the terminal."""

from __future__ import annotations

from pathlib import Path

import yaml

from provisioner.apis.v2_to_v3.mapping import convert_page
from provisioner.apis.v2_to_v3.rules import Loss
from provisioner.convert import Conversion
from provisioner.render.losses import render_losses
from tests.unit.test_convert_cases import CASES, v2_page


def conversion(written: bool) -> Conversion:
    cases = [c for c in CASES if c.stem in ("defaults_made_explicit", "round_robin_losses", "several_hosts")]
    pages = [convert_page(v2_page(yaml.safe_load(c.read_text()))) for c in cases]
    return Conversion(Path("pages"), Path("pages-v3"), pages, written)


def test_report_not_written_matches_golden(golden) -> None:
    golden("convert_losses.txt", render_losses(conversion(written=False)))


def test_report_written_matches_golden(golden) -> None:
    golden("convert_losses_written.txt", render_losses(conversion(written=True)))


def test_control_characters_from_a_page_are_shown_escaped() -> None:
    result = conversion(written=False)
    result.pages[0].losses.append(Loss("minimal", "config.locale", "dropped", "\x1b[31mred", "no v3 equivalent"))
    text = render_losses(result)
    assert "\x1b" not in text and "\\u001b[31mred" in text
