"""Benchmark, v3: ``python -m tests.bench.plan_v3 [--configurations 1000] [--grants 4] [--latency-ms 100]
[--parallelism 16] [--rounds 3] [--engine auto|yes|no]``.

Serves the emulator over real HTTP on 127.0.0.1 (a child process, `tests.bench.common.served`) with the
injected latency, and measures in one run:

- **the v3 client**: N creates spread over the grants (`ConfigurationsClient.create_configuration`), then
  its refresh of all N (one ``GET`` each, ``parallelism`` at a time) **side by side** with a minimal
  reference client (plain ``httpx.AsyncClient`` GETs of the same ids with the API key, same parallelism,
  JSON decoded, nothing else; `tests.bench.sidebyside.Side`), alternating ``--rounds`` times: the ratio of
  the best wall times (target <= 1.15) and the CPU per configuration; then listing every grant
  (``limit`` 200 pages);
- **the engine** (when the v3 API is wired into it: `provisioner.apis.nylas_v3.api`; ``--engine no``
  skips it): N generated v3 page files in a ``provisioner.yaml`` project with ``api: nylas-v3``, the
  ``provisioner`` CLI as a child process: ``apply`` of N creates, ``plan`` on the converged set side
  by side with the reference client (the CLI's start-up included) and in this process
  (`workflows.plan`), the CPU per configuration of each part with no network (`tests.bench.plan.cpu_per_page`:
  load + validate, state read, live view, diff), and a no-change ``apply``, whose write calls
  (POST/PUT/DELETE, from the emulator's ``/_emulator/stats``) must be 0. Plans refresh one configuration
  per GET (``--refresh page``), as the reference client reads.

Speed is reported here, never asserted by tests.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from .common import CLI, Stats, cpu_time, page_mode, page_mode_flags, served
from .plan import cpu_line, cpu_per_page
from .sidebyside import Side

API_KEY = "nyk_bench_v3_key_Jq7w"  # the emulator takes any key; never printed
TARGETS = {"client_side_by_side": 1.15, "plan_side_by_side": 1.15, "no_change_writes": 0}


def wire(i: int, grants: int) -> dict[str, Any]:
    """One generated configuration (the organizer's grant is the path's)."""
    return {
        "slug": f"bench-v3-{i:05d}", "name": f"Bench configuration {i}",
        "participants": [{"email": f"host{i % grants}@example.com", "is_organizer": True,
                          "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}],
        "availability": {"duration_minutes": 30, "availability_rules": {"default_open_hours": [
            {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00", "timezone": "Europe/Paris"}]}},
        "event_booking": {"title": f"Bench meeting {i}"},
    }


def grant_of(i: int, grants: int) -> str:
    return f"bench-grant-{i % grants}"


# --- the two clients ------------------------------------------------------------------------------


async def reference_reads(url: str, items: list[tuple[str, str]], parallelism: int) -> int:
    """GET every ``(grant, configuration id)`` with plain httpx, ``parallelism`` at a time; keys read."""
    slots = asyncio.Semaphore(parallelism)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:

        async def one(grant: str, config_id: str) -> int:
            async with slots:
                response = await client.get(f"/v3/grants/{grant}/scheduling/configurations/{config_id}")
            response.raise_for_status()
            return len(response.json()["data"])

        return sum(await asyncio.gather(*(one(grant, cid) for grant, cid in items)))


def client_for(url: str, parallelism: int) -> Any:
    from provisioner.apis.nylas_v3.client import ConfigurationsClient

    return ConfigurationsClient(url, api_key=SecretStr(API_KEY), parallelism=parallelism)


async def client_reads(url: str, items: list[tuple[str, str]], parallelism: int) -> int:
    """The v3 client's refresh: `get_configuration` of every id, all at once under its parallelism bound."""
    async with client_for(url, parallelism) as client:
        got = await asyncio.gather(*(client.get_configuration(grant, cid) for grant, cid in items))
    return len(got)


def alternate(rounds: int, sides: list[tuple[Side, Callable[[], Any]]]) -> None:
    """Run each side once per round, in turn, so a busy machine slows them alike; best of rounds counts."""
    for _ in range(rounds):
        for side, fn in sides:
            cpu, start = cpu_time(), time.perf_counter()
            fn()
            side.add(time.perf_counter() - start, cpu_time() - cpu)


def timed(stats: Stats, fn: Callable[[], Awaitable[Any]] | Callable[[], Any]) -> tuple[float, dict[str, int], Any]:
    stats.reset()
    start = time.perf_counter()
    out = fn()
    if asyncio.iscoroutine(out):
        out = asyncio.run(out)
    return time.perf_counter() - start, stats.get(), out


# --- the run --------------------------------------------------------------------------------------


def run_client(url: str, stats: Stats, n: int, grants: int, parallelism: int, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}

    async def create_all() -> list[tuple[str, str]]:
        async with client_for(url, parallelism) as client:
            made = await asyncio.gather(*(client.create_configuration(grant_of(i, grants), wire(i, grants))
                                          for i in range(n)))
        return [(grant_of(i, grants), live.id) for i, live in enumerate(made)]

    wall, reqs, items = timed(stats, create_all)
    out["create"] = {"wall_s": wall, "requests": reqs}
    reference, client = Side(), Side()
    alternate(rounds, [(reference, lambda: asyncio.run(reference_reads(url, items, parallelism))),
                       (client, lambda: asyncio.run(client_reads(url, items, parallelism)))])
    out["side_by_side"] = {"reference": reference, "client": client}

    async def list_all() -> int:
        async with client_for(url, parallelism) as c:
            lists = await asyncio.gather(*(c.list_configurations(f"bench-grant-{g}") for g in range(grants)))
        return sum(len(found) for found in lists)

    wall, reqs, listed = timed(stats, list_all)
    out["list"] = {"wall_s": wall, "requests": reqs, "configurations": listed}
    return out


def engine_wired() -> bool:
    return importlib.util.find_spec("provisioner.apis.nylas_v3.api") is not None


def page_file(i: int, grants: int) -> str:
    return (
        f"slug: engine-v3-{i:05d}\n"
        f"name: Engine configuration {i}\n"
        f"grant: {grant_of(i, grants)}\n"
        "config:\n"
        "  participants:\n"
        f"    - email: host{i % grants}@example.com\n"
        "      is_organizer: true\n"
        "      availability: {calendar_ids: [primary]}\n"
        "      booking: {calendar_id: primary}\n"
        "  availability:\n"
        "    duration_minutes: 30\n"
        "    availability_rules:\n"
        "      default_open_hours:\n"
        "        - {days: [1, 2, 3, 4, 5], start: \"09:00\", end: \"17:00\", timezone: Europe/Paris}\n"
        "  event_booking:\n"
        f"    title: Engine meeting {i}\n"
    )


def run_engine(url: str, stats: Stats, n: int, grants: int, parallelism: int, rounds: int,
               workdir: Path) -> dict[str, Any]:
    """The real ``provisioner`` CLI on N v3 page files (child processes, like a user's shell)."""
    from provisioner.secrets import keygen

    project = workdir / "engine"
    pages = project / "pages"
    for i in range(n):
        folder = pages / f"group-{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"configuration-{i:05d}.yaml").write_text(page_file(i, grants))
    (project / "provisioner.yaml").write_text(f"api: nylas-v3\ntargets:\n  bench:\n    api: nylas-v3\n"
                                              f"    api_url: {url}\n")
    env = {**os.environ, "NYLAS_API_KEY": API_KEY, "PROVISIONER_LOCK_KEY": keygen()}
    par = ["--parallelism", str(parallelism)]
    plan_flags = [*par, *page_mode_flags()]  # one GET per configuration, as the reference client reads

    def cli(*args: str, ok: tuple[int, ...] = (0,)) -> None:
        proc = subprocess.run([*CLI, *args], cwd=project, env=env, capture_output=True)
        if proc.returncode not in ok:
            raise SystemExit(f"provisioner {' '.join(args)} failed ({proc.returncode}): "
                             f"{proc.stderr.decode()[-2000:]}")

    out: dict[str, Any] = {}
    wall, reqs, _ = timed(stats, lambda: cli("apply", "--auto-approve", *par))
    out["apply_creates"] = {"wall_s": wall, "requests": reqs}
    wall, reqs, _ = timed(stats, lambda: cli("plan", "--detailed-exitcode", *plan_flags))
    out["plan"] = {"wall_s": wall, "requests": reqs}

    async def ids() -> list[tuple[str, str]]:
        async with client_for(url, parallelism) as c:
            lists = await asyncio.gather(*(c.list_configurations(f"bench-grant-{g}") for g in range(grants)))
        return [(f"bench-grant-{g}", live.id) for g, found in enumerate(lists) for live in found
                if (live.slug or "").startswith("engine-v3-")]

    items = asyncio.run(ids())
    reference, plan, in_process = Side(), Side(), Side()
    settings = engine_settings(project, url, parallelism, env)

    def plan_in_process() -> None:
        from provisioner import workflows

        assert not workflows.plan(settings).has_changes

    alternate(rounds, [(reference, lambda: asyncio.run(reference_reads(url, items, parallelism))),
                       (plan, lambda: cli("plan", "--detailed-exitcode", *plan_flags)),
                       (in_process, plan_in_process)])
    out["side_by_side"] = {"reference": reference, "plan": plan, "in_process": in_process,
                           "configurations": len(items)}
    out["cpu"] = cpu_per_page(settings)
    wall, reqs, _ = timed(stats, lambda: cli("apply", "--auto-approve", *par))
    out["apply_no_change"] = {"wall_s": wall, "requests": reqs,
                              "writes": sum(reqs.get(m, 0) for m in ("POST", "PUT", "DELETE"))}
    return out


def engine_settings(project: Path, url: str, parallelism: int, env: dict[str, str]) -> Any:
    """The settings the CLI resolves for the bench target (for `workflows.plan` in this process, as
    `tests.bench.plan` runs it: no interpreter start-up, the same load, refresh and diff)."""
    from provisioner import workflows

    locks = sorted(project.glob("*.lock"))
    lock = locks[0] if locks else project / "pages.lock"
    return page_mode(workflows.Settings(pages_dir=project / "pages", lockfile=lock, api_url=url,
                                        parallelism=parallelism, state_dir=project / ".provisioner", env=env,
                                        target_name="bench", known_targets=("bench",), api_name="nylas-v3"))


# --- output ---------------------------------------------------------------------------------------


def _reqs(reqs: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(reqs.items()) if k != "total") or "0"


def _target(name: str, value: float, limit: float) -> str:
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    return f"  {name:40} {shown:>8} (target <= {limit:g}) {'ok' if value <= limit else 'MISSED'}"


def report(out: dict[str, Any]) -> str:
    n, lat, par = out["configurations"], out["latency_ms"], out["parallelism"]
    bound = n * lat / 1000 / par
    c = out["client"]
    ref, cli_side = c["side_by_side"]["reference"], c["side_by_side"]["client"]
    ratio = cli_side.wall / ref.wall
    lines = [f"provisioner v3 bench: {n} configurations over {out['grants']} grants, latency {lat:g} ms, "
             f"parallelism {par}, emulator in a child process (bound = N x latency / parallelism = {bound:.2f} s)",
             "",
             f"client: {n} creates {c['create']['wall_s']:.2f} s ({_reqs(c['create']['requests'])})",
             f"client refresh side by side, best of {len(ref.walls)} alternating rounds: reference "
             f"{ref.wall:.2f} s, v3 client {cli_side.wall:.2f} s -> {ratio:.3f}x",
             f"  rounds: reference {' '.join(f'{w:.2f}' for w in ref.walls)} s; "
             f"client {' '.join(f'{w:.2f}' for w in cli_side.walls)} s",
             f"  CPU per configuration, HTTP included: client {cli_side.cpu_ms_per_page(n):.3f} ms, "
             f"reference {ref.cpu_ms_per_page(n):.3f} ms",
             f"client: list every grant ({c['list']['configurations']} configurations) "
             f"{c['list']['wall_s']:.2f} s ({_reqs(c['list']['requests'])})"]
    targets = [_target("v3 client refresh / reference client", ratio, TARGETS["client_side_by_side"])]
    e = out.get("engine")
    if e is None:
        lines += ["", f"engine: {out.get('engine_note', 'skipped')}"]
    else:
        sbs = e["side_by_side"]
        plan_ratio = sbs["plan"].wall / sbs["reference"].wall
        in_process_ratio = sbs["in_process"].wall / sbs["reference"].wall
        lines += ["",
                  f"engine (provisioner CLI, child processes): apply of {n} creates "
                  f"{e['apply_creates']['wall_s']:.2f} s ({_reqs(e['apply_creates']['requests'])})",
                  f"  plan, converged: {e['plan']['wall_s']:.2f} s ({_reqs(e['plan']['requests'])})",
                  f"  plan side by side, best of {len(sbs['plan'].walls)} rounds: reference "
                  f"{sbs['reference'].wall:.2f} s, plan {sbs['plan'].wall:.2f} s -> {plan_ratio:.3f}x "
                  "(the CLI's start-up included)",
                  f"  the same plan in this process (workflows.plan, as tests.bench.plan measures v2): "
                  f"{sbs['in_process'].wall:.2f} s -> {in_process_ratio:.3f}x; CPU per configuration, HTTP "
                  f"included: {sbs['in_process'].cpu_ms_per_page(n):.3f} ms",
                  f"  CPU per configuration, no network: {cpu_line(e['cpu'])}",
                  f"  apply, no change: {e['apply_no_change']['wall_s']:.2f} s "
                  f"({_reqs(e['apply_no_change']['requests'])}): sends {e['apply_no_change']['writes']} writes"]
        targets += [_target("plan in process / reference client", in_process_ratio, TARGETS["plan_side_by_side"]),
                    _target("provisioner plan (CLI) / reference client", plan_ratio, TARGETS["plan_side_by_side"]),
                    _target("write calls on no-change apply", e["apply_no_change"]["writes"],
                            TARGETS["no_change_writes"])]
    return "\n".join([*lines, "", "targets:", *targets])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.plan_v3", description=__doc__.split("\n")[0])
    parser.add_argument("--configurations", type=int, default=1000)
    parser.add_argument("--grants", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engine", choices=["auto", "yes", "no"], default="auto",
                        help="run the provisioner CLI on v3 page files too (auto: when the v3 API is wired in)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="provisioner-bench-v3-"))
    out: dict[str, Any] = {"configurations": args.configurations, "grants": args.grants,
                           "latency_ms": args.latency_ms, "parallelism": args.parallelism}
    try:
        with served("process", workdir / "emulator.db", args.latency_ms) as url:
            stats = Stats(url)
            out["client"] = run_client(url, stats, args.configurations, args.grants, args.parallelism, args.rounds)
            wired = engine_wired()
            if args.engine == "yes" or (args.engine == "auto" and wired):
                out["engine"] = run_engine(url, stats, args.configurations, args.grants, args.parallelism,
                                           args.rounds, workdir)
            else:
                out["engine_note"] = ("skipped (--engine no)" if args.engine == "no" else
                                      "not measured: the v3 API is not wired into the engine yet "
                                      "(provisioner.apis.nylas_v3.api)")
        if args.json:
            print(json.dumps(out, indent=2, default=lambda side: {"walls": side.walls, "cpus": side.cpus}))
        else:
            print(report(out))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
