"""What a reviewer must be able to trust in a rendered plan: hosts readable, limits and protected
pages up front, nothing unchecked left unsaid, no raw control character, Markdown that stays Markdown."""

from __future__ import annotations

import json
import re

import pytest

from provisioner.changes import Action, FieldChange, Hosts, Origin, PageChange, Plan, Target
from provisioner.render import FORMATS, render_drift, render_plan
from provisioner.render.markdown import LIMIT

RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # newline allowed


def test_host_changes_show_count_and_emails_never_tokens() -> None:
    change = FieldChange("hosts", Hosts(2, ("alice@example.com", "bob@example.com")), Hosts(1))
    plan = Plan(Target("http://127.0.0.1:1"), "l", 1, (PageChange("a", Action.UPDATE, "a", 1, changes=(change,)),))
    text = render_plan(plan, "text")
    assert "~ hosts = 2 host(s): alice@example.com, bob@example.com -> 1 host(s) (e-mails known after apply)" in text
    (page,) = json.loads(render_plan(plan, "json"))["pages"]
    assert page["changes"][0]["before"] == {"count": 2, "emails": ["alice@example.com", "bob@example.com"]}
    assert page["changes"][0]["after"] == {"count": 1, "emails": None}
    assert "sensitive" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_raw_control_character_reaches_the_output(samples, fmt: str) -> None:
    for name, sample in samples.items():
        render = render_plan if isinstance(sample, Plan) else render_drift
        out = render(sample, fmt)
        assert not RAW_CONTROL.search(out), name


def test_guarded_plan_says_up_front_what_apply_refuses_and_what_was_not_checked(samples) -> None:
    lines = render_plan(samples["guarded"], "text").splitlines()
    assert lines[1].startswith("Apply will refuse this plan: it updates 40 of 100 managed pages")
    assert lines[2].startswith("Apply will not destroy legacy/keep (blocked by lifecycle.prevent_destroy)")
    assert lines[3] == "Note: --target limits this plan to 3 page(s); 12 other page(s) were not checked."
    md = render_plan(samples["guarded"], "markdown")
    assert md.index("**Apply will refuse this plan:**") < md.index("| page |")
    assert json.loads(render_plan(samples["guarded"], "json"))["unchecked"] == 12


def test_markdown_table_says_which_updates_revert_live_edits(samples) -> None:
    md = render_plan(samples["update"], "markdown")
    assert "| `sales/demo` | ~ update | **yes**: 2 field(s) |" in md
    move = render_plan(samples["move"], "markdown")
    assert "| `team/support` | ~ update | no |" in move


def test_markdown_truncation_note_is_a_quote_of_its_own_after_a_details_block() -> None:
    pages = tuple(
        PageChange(f"p{i:04d}", Action.UPDATE, f"p{i}", i,
                   changes=tuple(FieldChange(f"config.event.f{j}", "x" * 40, "y" * 40, Origin.DRIFT) for j in range(6)))
        for i in range(400)
    )
    md = render_plan(Plan(Target("http://127.0.0.1:1"), "l", 1, pages), "markdown")
    assert len(md) < LIMIT
    # A blank line closes the HTML block first, so GitHub and GitLab render the note as Markdown.
    assert re.search(r"</details>\n\n> Output truncated: \d+ page\(s\) not shown; see the JSON plan artifact\.\n$", md)


def test_progress_lines_carry_no_raw_control_character() -> None:
    import io

    from provisioner.progress import StderrReporter

    for tty in (False, True):
        stream = io.StringIO()
        reporter = StderrReporter(tty=tty, stream=stream)
        reporter.begin(1)
        reporter.step("team/\x1b]0;pwned\x07", "failed: \x9b31m server said \u202eno")
        reporter.end()
        # The reporter's own line control (carriage return, erase line) aside, nothing raw gets through.
        drawn = stream.getvalue().replace("\r", "").replace("\x1b[K", "")
        assert "pwned" in drawn and not RAW_CONTROL.search(drawn), tty
