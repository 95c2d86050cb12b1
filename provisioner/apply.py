"""Execute a plan through the client, journaling every completed step in the state transaction.

Apply sends exactly what the plan shows: each write is built from its `PageChange` alone (``body``
for name, slug and config; the access tokens only when the plan has a hosts line), never from what
apply finds out on its own. A page that ``lifecycle.prevent_destroy`` protects is skipped and
reported as failed; the rest of the plan is applied. Plan-wide limits are `safety`'s.

A create is never blindly retried: when its outcome is unknown, or a previous run crashed after
sending it, the page is looked up by slug and adopted if it exists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from provisioner.apis import Api, Handle, LivePage, Pages

from .changes import Action, PageChange, Plan
from .errors import ApiError, NotFound, OutcomeUnknown, PlanRefused, ProvisionerError, StateError
from .pagefile import DesiredPage
from .plan import live_document
from .safety import Limits, refusals
from .state.base import NO_TOKEN, Resource, Transaction

CREATE_ATTEMPTS = 3  # a create whose outcome is unknown and whose page is not found is re-sent at most this often


class Reporter(Protocol):
    """Progress sink (stderr on the CLI)."""

    def begin(self, total: int) -> None: ...

    def step(self, address: str, outcome: str) -> None: ...

    def end(self) -> None: ...


@dataclass
class ApplyResult:
    done: list[tuple[str, str]] = field(default_factory=list)  # (address, outcome)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, message)
    api_writes: int = 0


BLOCKED = "not destroyed: lifecycle.prevent_destroy protects it (remove prevent_destroy first if this is intended)"


def check_safety(plan: Plan, limits: Limits) -> None:
    """Refuse (PlanRefused) a plan beyond ``limits``, before anything is sent."""
    reasons = refusals(plan, limits)
    if reasons:
        raise PlanRefused("apply refuses this plan: " + "; ".join(reasons))


class Applier:
    """Runs the steps of one plan concurrently (the client bounds concurrency)."""

    def __init__(
        self,
        client: Pages,
        txn: Transaction,
        desired: Mapping[str, DesiredPage],
        reporter: Reporter,
        api: Api | None = None,
    ):
        self.client, self.txn, self.api = client, txn, api
        self.desired, self.reporter = desired, reporter
        self.result = ApplyResult()

    async def run(self, plan: Plan) -> ApplyResult:
        steps = [p for p in plan.pages if p.needs_apply]
        self.result.failed += [(p.address, BLOCKED) for p in plan.blocked]
        if steps:
            try:
                self.txn.ready()
            except StateError as exc:
                raise StateError(f"{exc}; nothing was sent") from None
        self.reporter.begin(len(steps))
        await asyncio.gather(*(self._guarded(change) for change in steps))
        self.reporter.end()
        self.result.done.sort()
        self.result.failed.sort()
        return self.result

    async def _guarded(self, change: PageChange) -> None:
        try:
            outcome = await self._step(change)
        except ProvisionerError as exc:
            self.result.failed.append((change.address, str(exc)))
            self.reporter.step(change.address, "failed (see below)")
            return
        self.result.done.append((change.address, outcome))
        self.reporter.step(change.address, outcome)

    async def _step(self, change: PageChange) -> str:
        if change.action in (Action.CREATE, Action.RECREATE):
            return await self._create(change)
        if change.action is Action.DELETE:
            return await self._delete(change)
        if change.action is Action.MOVE and change.moved_from:
            self.txn.move(change.moved_from, change.address)
        resource = self.txn.state.resources[change.address]
        if change.body is None:  # no API write: only the record of what is live is refreshed
            live = await self.client.get(resource.handle)
            self._record(change.address, live, change.tokens_digest or resource.tokens_digest)
            return "moved" if change.action is Action.MOVE else "state refreshed"
        page = self.desired[change.address]
        updated = await self._update(resource.handle, change.body, page, change.sends_tokens, _changed(change))
        # Without a hosts line the page already holds these tokens (the plan checked), so their digest holds.
        self._record(change.address, updated, change.tokens_digest or resource.tokens_digest, change.body)
        return f"updated (page {updated.id}{_hosts(updated) if change.sends_tokens else ''})"

    async def _update(
        self, handle: Handle, body: dict[str, Any], page: DesiredPage, send_tokens: bool,
        changed: tuple[str, ...] | None = None,
    ) -> LivePage:
        self.result.api_writes += 1
        return await self.client.update(
            handle,
            name=body["name"],
            slug=body["slug"],
            config=body["config"],
            owner=page.owner if send_tokens else None,
            changed=changed,
        )

    async def _create(self, change: PageChange) -> str:
        page = self.desired[change.address]
        assert change.body is not None
        digest = change.tokens_digest
        existing = None
        pending_slug = self.txn.state.pending_creates.get(change.address)
        if pending_slug is not None:  # an earlier run sent a create and never heard back
            existing = await self.client.find_by_slug(page.owner, pending_slug)
            if existing is None and pending_slug != page.slug:
                existing = await self.client.find_by_slug(page.owner, page.slug)
        for _attempt in range(CREATE_ATTEMPTS):
            if existing is not None:
                break
            self.txn.intend_create(change.address, page.slug)
            try:
                self.result.api_writes += 1
                created = await self.client.create(
                    page.owner,
                    name=change.body["name"],
                    slug=change.body["slug"],
                    config=change.body["config"],
                )
            except OutcomeUnknown:
                existing = await self.client.find_by_slug(page.owner, page.slug)
                continue
            except ApiError as exc:
                # A definite refusal: nothing was created, so the intent no longer holds.
                if change.address not in self.txn.state.resources:
                    self.txn.forget(change.address)
                if exc.status == 400 and "already taken" in str(exc):
                    raise ApiError(
                        f"slug {page.slug!r} is taken by a page provisioner does not manage; adopt it with "
                        f"`provisioner import {change.address} {_import_flags(page)}`, or choose another slug",
                        status=400,
                    ) from None
                raise
            self._record(change.address, created, digest, change.body)
            return f"created (page {created.id}{_hosts(created)})"
        if existing is None:
            raise ApiError(f"creating {change.address} failed {CREATE_ATTEMPTS} times with an unknown outcome")
        # The page exists from an earlier attempt: adopt it, then make sure it holds the desired config.
        if live_document(existing, self.api) != change.body:
            every = tuple(sorted(set(existing.config) | set(change.body["config"])))  # v3: each top-level key
            existing = await self._update(existing.handle, change.body, page, False, every)
        self._record(change.address, existing, digest)
        return f"adopted (page {existing.id}, created by an interrupted earlier attempt)"

    async def _delete(self, change: PageChange) -> str:
        resource = self.txn.state.resources[change.address]
        if change.live_fingerprint is None:  # the plan found it gone: only the record goes
            self.txn.forget(change.address)
            return f"forgotten (page {resource.id} was already gone)"
        try:
            self.result.api_writes += 1
            await self.client.delete(resource.handle)
        except NotFound:
            pass  # already gone: the goal is reached
        self.txn.forget(change.address)
        return f"deleted (page {resource.id})"

    def _record(self, address: str, live: LivePage, digest: str | None, sent: dict[str, Any] | None = None) -> None:
        doc = live_document(live, self.api)
        if sent is not None and doc["config"] == sent["config"]:
            doc["config"] = sent["config"]  # the same value: keep one copy in memory
        self.txn.record(
            Resource(
                address=address,
                id=live.id,
                slug=live.slug,
                edit_token=live.handle.edit_token or NO_TOKEN,
                name=doc["name"],
                config=doc["config"],
                tokens_digest=digest,
                prevent_destroy=self.desired[address].prevent_destroy if address in self.desired else False,
                grant=live.handle.grant,
            )
        )


def _hosts(page: LivePage) -> str:
    """``; hosts: a@example.com, b@example.com``: who hosts a page the API just wrote (not secret)."""
    return "; hosts: " + ", ".join(page.hosts)


def _changed(change: PageChange) -> tuple[str, ...]:
    """The top-level config keys a plan changes (v3 sends each of those objects whole)."""
    return tuple(sorted({c.path.split(".")[1] for c in change.changes if c.path.startswith("config.")}))


def _import_flags(page: DesiredPage) -> str:
    if page.grant is not None:
        return f"--configuration-id ID --grant {page.grant}"
    return "--page-id ID"
