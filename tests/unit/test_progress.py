"""Progress on stderr: phase, count, elapsed time and an estimate; redrawn in place on a terminal,
plain periodic lines elsewhere (silent on short runs). A fake clock stands in for time."""

from __future__ import annotations

import io

from provisioner.progress import StderrReporter, clock_text


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_clock_text():
    assert [clock_text(s) for s in (0, 7.9, 75, 3723)] == ["0:00", "0:07", "1:15", "1:02:03"]


def test_a_terminal_sees_the_phase_at_once_then_count_elapsed_and_estimate():
    clock, out = FakeClock(), io.StringIO()
    progress = StderrReporter(tty=True, stream=out, phase="refresh", each_step=False, clock=clock)
    progress.note("reading pages/ and the state...")
    assert out.getvalue().endswith("reading pages/ and the state...")
    progress.begin(100)
    assert out.getvalue().endswith("refresh [........................] 0/100 pages, 0:00 elapsed")
    for i in range(25):
        clock.now += 0.2
        progress.step(f"page/{i}", "refreshed")
    assert out.getvalue().endswith("refresh [######..................] 25/100 pages, 0:05 elapsed, about 0:15 left")
    for i in range(75):
        progress.step(f"page/x{i}", "refreshed")  # no time passes: redrawn only for the last one
    progress.end()
    assert out.getvalue().endswith("refresh [########################] 100/100 pages, 0:05 elapsed\n")
    assert out.getvalue().count("\r") < 40  # redrawn at most ten times a second, not once per page


def test_a_failure_is_kept_on_its_own_line_on_a_terminal():
    out = io.StringIO()
    progress = StderrReporter(tty=True, stream=out, clock=FakeClock())
    progress.begin(2)
    progress.step("sales/demo", "failed: the API answered 500")
    assert "\r\x1b[Ksales/demo: failed: the API answered 500\n" in out.getvalue()


def test_a_log_stays_quiet_on_a_short_run():
    clock, out = FakeClock(), io.StringIO()
    progress = StderrReporter(tty=False, stream=out, phase="refresh", each_step=False, clock=clock)
    progress.note("reading...")
    progress.begin(3)
    for i in range(3):
        clock.now += 1
        progress.step(f"p{i}", "refreshed")
    progress.end()
    progress.clear()
    assert out.getvalue() == ""


def test_a_log_gets_a_plain_line_every_few_seconds_on_a_long_run():
    clock, out = FakeClock(), io.StringIO()
    progress = StderrReporter(tty=False, stream=out, phase="refresh", each_step=False, every=10, clock=clock)
    progress.begin(100)
    for i in range(100):
        clock.now += 0.25
        progress.step(f"p{i}", "refreshed")
    progress.end()
    lines = out.getvalue().splitlines()
    assert lines[0] == "refresh: 40/100 pages, 0:10 elapsed, about 0:15 left"
    assert lines[1] == "refresh: 80/100 pages, 0:20 elapsed, about 0:05 left"
    assert lines[-1] == "refresh: 100/100 done in 0:25"
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_apply_in_a_log_keeps_one_line_per_page():
    out = io.StringIO()
    progress = StderrReporter(tty=False, stream=out, clock=FakeClock())
    progress.begin(2)
    progress.step("sales/demo", "created (page 1)")
    progress.step("sales/discovery", "updated")
    progress.end()
    assert out.getvalue() == "sales/demo: created (page 1)\nsales/discovery: updated\n"


def test_the_refresh_says_the_requests_it_sent_on_a_terminal_and_in_a_log():
    sent = [0]
    for tty in (True, False):
        clock, out = FakeClock(), io.StringIO()
        progress = StderrReporter(tty=tty, stream=out, phase="refresh", each_step=False, every=10, clock=clock)
        progress.show_requests(lambda: sent[0])
        progress.begin(1000)
        sent[0] = 12  # a count and eleven lists
        clock.now += 61
        for i in range(1000):
            progress.step(f"page/{i}", "refreshed")
        progress.end()
        final = "refresh [########################] 1000/1000 pages, 12 requests, 1:01 elapsed\n" if tty else \
            "refresh: 1000/1000 done in 1:01, 12 requests\n"
        assert out.getvalue().endswith(final)
