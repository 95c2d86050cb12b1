"""Golden files: every representative plan and drift report in every format (UPDATE_GOLDENS=1 rewrites)."""

from __future__ import annotations

import pytest

from provisioner.changes import DriftReport, Plan
from provisioner.render import FORMATS, render_drift, render_plan

SUFFIX = {"text": "txt", "json": "json", "markdown": "md"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_plan_matches_golden(plan_case: tuple[str, Plan], fmt: str, golden) -> None:
    name, plan = plan_case
    golden(f"plan_{name}.{SUFFIX[fmt]}", render_plan(plan, fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_drift_matches_golden(drift_case: tuple[str, DriftReport], fmt: str, golden) -> None:
    name, report = drift_case
    golden(f"{name}.{SUFFIX[fmt]}", render_drift(report, fmt))


def test_text_plan_with_colour_matches_golden(samples, golden) -> None:
    golden("plan_update_color.txt", render_plan(samples["update"], "text", color=True))
    golden("plan_delete_color.txt", render_plan(samples["delete"], "text", color=True))


@pytest.mark.parametrize("fmt", FORMATS)
def test_rendering_is_deterministic(samples, fmt: str) -> None:
    for name, sample in samples.items():
        render = render_drift if isinstance(sample, DriftReport) else render_plan
        assert render(sample, fmt) == render(sample, fmt), name
