"""Benchmark: ``python -m tests.bench.ratelimit [--pages 2000] [--accounts 4] [--per-account 50]``.

A plan-like read load under the API's rate limits. The pages are written straight into a temporary
emulator database (spread round-robin over ``--accounts`` access tokens), then the emulator is served
over real HTTP on 127.0.0.1 (uvicorn, in a thread) **enforcing** ``--per-account`` / ``--per-app``
requests per second, and a `SchedulerClient` limited to the same rates GETs every page at once
(``asyncio.gather``, bounded by ``--parallelism``), each with its account's access token.

Why access tokens and not the edit tokens a plan uses: both sides count one account per bearer token
[choice], so 2,000 edit tokens would be 2,000 accounts and only the application limit would bind.
Reading with the account's token is the load the per-account limit is about.

Prints the wall time of the reads, the rate-limit bound (pages / min(accounts x per-account, per-app)
per second: 2,000 / 200 = 10 s), their ratio (target at most 1.1), and the 429s (target 0): those
the emulator answered and those the client saw. Exit status 0 whatever the figures (speed is
reported, never asserted); ``--check`` makes a missed target exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from provisioner.apis.nylas_v2 import spec
from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.apis.nylas_v2.emulator import choices
from provisioner.emulator import Emulator, RateLimitConfig
from provisioner.emulator.serve import serve_in_thread
from provisioner.errors import ApiError
from provisioner.ratelimit import RateLimits

TARGET_RATIO = 1.1


@dataclass(frozen=True)
class Result:
    pages: int
    wall_seconds: float
    bound_seconds: float
    server_429: int
    client_429: int
    failures: int

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.bound_seconds if self.bound_seconds else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio <= TARGET_RATIO and self.server_429 == 0 and self.failures == 0


def seed(emulator: Emulator, pages: int, tokens: list[str]) -> list[tuple[int, str]]:
    """Write ``pages`` pages directly into the emulator's store; (page id, access token) of each."""
    config = spec.fill_server_defaults({})
    seeded = []
    for i in range(pages):
        token = tokens[i % len(tokens)]
        record = emulator.store.create_page(tokens=[token], name=f"Bench {i}", slug=f"bench-rl-{i:05d}",
                                            config=config, edit_token=choices.new_edit_token(),
                                            today="2024-01-01")
        seeded.append((record.id, token))
    return seeded


async def read_all(url: str, pages: list[tuple[int, str]], limits: RateLimits,
                   parallelism: int) -> tuple[float, int, int]:
    """GET every page through a limited client; (wall seconds, 429s seen by the client, failures)."""
    async with SchedulerClient(url, parallelism=parallelism, limits=limits) as client:

        async def one(page_id: int, token: str) -> bool:
            try:
                await client.get_page(page_id, SecretStr(token))
            except ApiError:
                return False
            return True

        start = time.perf_counter()
        done = await asyncio.gather(*(one(p, t) for p, t in pages))
        wall = time.perf_counter() - start
        assert client.limiter is not None
        return wall, client.limiter.stats.throttled, done.count(False)


def run(pages: int, accounts: int, per_account: float, per_app: float, parallelism: int) -> Result:
    tokens = [f"bench-ratelimit-account-{i}-{'x' * 16}" for i in range(accounts)]
    with tempfile.TemporaryDirectory(prefix="provisioner-bench-rl-") as tmp:
        emulator = Emulator(Path(tmp) / "emulator.db")
        try:
            seeded = seed(emulator, pages, tokens)
            emulator.rate_limiter.config = RateLimitConfig(per_account=per_account, per_application=per_app)
            with serve_in_thread(emulator) as url:
                limits = RateLimits(per_account=per_account, per_application=per_app)
                wall, client_429, failures = asyncio.run(read_all(url, seeded, limits, parallelism))
            server_429 = emulator.rate_limiter.rejected
        finally:
            emulator.close()
    rate = min(accounts * per_account, per_app)
    return Result(pages, wall, pages / rate, server_429, client_429, failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ratelimit", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--per-account", type=float, default=50.0, help="requests/s per account (both sides)")
    parser.add_argument("--per-app", type=float, default=500.0, help="requests/s per application (both sides)")
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    result = run(args.pages, args.accounts, args.per_account, args.per_app, args.parallelism)
    rate = min(args.accounts * args.per_account, args.per_app)
    print(f"pages read          {result.pages} over {args.accounts} accounts, parallelism {args.parallelism}")
    print(f"limits              {args.per_account:g}/s per account, {args.per_app:g}/s per application "
          "(client and emulator)")
    print(f"wall time           {result.wall_seconds:.2f} s")
    print(f"rate-limit bound    {result.pages} / {rate:g} per s = {result.bound_seconds:.2f} s")
    print(f"ratio               {result.ratio:.3f}x (target <= {TARGET_RATIO}x)")
    print(f"429s                {result.server_429} answered by the emulator, {result.client_429} seen by the "
          "client (target 0)")
    print(f"failed reads        {result.failures}")
    print(f"verdict             {'targets met' if result.met else 'TARGET MISSED'}")
    return 1 if args.check and not result.met else 0


if __name__ == "__main__":
    sys.exit(main())
