"""Local servers speaking X's, Mastodon's and Bluesky's wire formats, with faults on demand."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Endpoint names the fault methods default to: the call that creates a post.
CREATE = "create"


@dataclass
class StoredMedia:
    """One uploaded picture as the platform holds it."""

    id: str
    mime_type: str
    size: int
    alt_text: str = ""


@dataclass
class StoredPost:
    """One post as the platform holds it; `deleted` posts stay, for the tests to see."""

    id: str
    text: str
    created_at: float
    reply_to: str | None = None
    media: list[StoredMedia] = field(default_factory=list)
    deleted: bool = False
    # Platform extras: Bluesky's cid, root and facets, Mastodon's idempotency key.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeState:
    """What a fake holds: posts by id, uploaded media, and how often each endpoint was called."""

    posts: dict[str, StoredPost] = field(default_factory=dict)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    sequence: int = 0
    path: Path | None = None

    def next_id(self, base: int) -> str:
        """Snowflake-like ids: large, increasing, strings."""
        self.sequence += 1
        return str(base + self.sequence)

    def live(self) -> list[StoredPost]:
        """Posts not deleted, oldest first."""
        return [p for p in self.posts.values() if not p.deleted]

    def texts(self) -> list[str]:
        return [p.text for p in self.live()]

    def to_json(self) -> dict[str, Any]:
        return {
            "posts": {k: asdict(v) for k, v in self.posts.items()},
            "media": {k: asdict(v) for k, v in self.media.items()},
            "requests": dict(self.requests),
            "sequence": self.sequence,
        }

    def save(self) -> None:
        """Write the state file atomically, so a reader in another process never sees half."""
        if self.path is None:
            return
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(self.to_json(), fh)
        Path(tmp).replace(self.path)

    @classmethod
    def load(cls, path: Path) -> FakeState:
        """Read a state file a fake in another process wrote."""
        raw = json.loads(path.read_text())
        state = cls()
        for key, value in raw["posts"].items():
            media = [StoredMedia(**m) for m in value.pop("media")]
            state.posts[key] = StoredPost(**value, media=media)
        state.media = {k: StoredMedia(**v) for k, v in raw["media"].items()}
        state.requests = Counter(raw["requests"])
        state.sequence = raw["sequence"]
        return state


@dataclass
class Fault:
    """One queued misbehaviour: for the next `count` matching requests, or until `until`."""

    kind: str  # fail | reject | slow | drop
    on: str | None  # endpoint name, or None for every endpoint
    count: int = 0
    until: float = 0.0
    status: int = 503
    seconds: float = 0.0
    detail: str = ""
    reset_at: float = 0.0

    def alive(self, now: float) -> bool:
        return self.count > 0 or now < self.until

    def matches(self, endpoint: str, now: float) -> bool:
        return (self.on is None or self.on == endpoint) and self.alive(now)


@dataclass
class Budget:
    """A fixed-window request budget for one endpoint, as the platforms publish them."""

    limit: int
    window: float
    started: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.started + self.window:
            self.started, self.used = now, 0

    @property
    def reset_at(self) -> float:
        return self.started + self.window

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


class FakeService:
    """What every fake shares: routing by endpoint name, faults, budgets and state.

    Tests serve `fake.app` with `aiohttp_server`, read `fake.state` and steer it with the fault
    methods. Each route is named after its endpoint (`create`, `delete`, `media`, ...) so faults
    and budgets can pick one. The same app runs as its own process (`python -m tests.fakes`),
    writing its state to a JSON file on every change and taking faults at `POST /_fake/faults`.
    """

    name = "fake"
    default_limits: dict[str, tuple[int, float]] = {}
    default_limit: tuple[int, float] = (3000, 300.0)
    # Endpoints that answer without credentials (Bluesky's createSession, say).
    open_endpoints: frozenset[str] = frozenset()
    # Methods another process may call through `POST /_fake/faults`.
    control_ops = frozenset(
        {
            "fail_next",
            "window",
            "rate_limit",
            "reject_next",
            "slow",
            "drop_after_store",
            "clear_faults",
        }
    )

    def __init__(
        self,
        *,
        state_file: Path | None = None,
        limits: dict[str, tuple[int, float]] | None = None,
    ) -> None:
        self.state = FakeState(path=state_file)
        self.faults: list[Fault] = []
        self.budgets: dict[str, Budget] = {}
        self.limits = {**self.default_limits, **(limits or {})}
        # Room for a 5 MB picture segment, as the platforms allow.
        self.app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024 * 1024)
        self.app.router.add_post("/_fake/faults", self._control_faults, name="_fake.faults")
        self.app.router.add_get("/_fake/state", self._control_state, name="_fake.state")
        self.routes(self.app.router)
        self.state.save()

    # ---- to override -------------------------------------------------------------------------

    def routes(self, router: web.UrlDispatcher) -> None:
        """Add the platform's routes; each route's name is `endpoint` or `endpoint.detail`."""
        raise NotImplementedError

    def error(self, status: int, detail: str) -> web.Response:
        """An error answer in the platform's own format."""
        raise NotImplementedError

    def rejection(self, status: int | None, detail: str | None) -> web.Response:
        """What the platform says when it refuses content (reject_next)."""
        return self.error(status or 400, detail or "rejected")

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        raise NotImplementedError

    def authenticate(self, request: web.Request, endpoint: str) -> web.Response | None:
        """None if the request carries this account's credentials, else the platform's 401."""
        return None

    # ---- faults, for tests -------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, *, on: str | None = None) -> None:
        """Answer the next `n` requests (to endpoint `on`, or any) with `status`, acting on none."""
        self.faults.append(Fault("fail", on, count=n, status=status))

    def window(self, seconds: float, status: int = 503, *, on: str | None = None) -> None:
        """Answer every request (to `on`, or any) with `status` for the next `seconds`."""
        self.faults.append(Fault("fail", on, until=time.time() + seconds, status=status))

    def rate_limit(
        self, for_seconds: float, reset_in: float | None = None, *, on: str | None = None
    ) -> None:
        """Answer 429 for `for_seconds`, saying the limit resets `reset_in` seconds from now."""
        now = time.time()
        reset_at = now + (for_seconds if reset_in is None else reset_in)
        self.faults.append(
            Fault("fail", on, until=now + for_seconds, status=429, reset_at=reset_at)
        )

    def reject_next(
        self,
        n: int = 1,
        *,
        status: int | None = None,
        detail: str | None = None,
        on: str | None = CREATE,
    ) -> None:
        """Refuse the next `n` posts as the platform refuses content it will not take."""
        self.faults.append(Fault("reject", on, count=n, status=status or 0, detail=detail or ""))

    def slow(self, seconds: float, n: int = 1, *, on: str | None = CREATE) -> None:
        """Act on the next `n` requests, then wait `seconds` before answering."""
        self.faults.append(Fault("slow", on, count=n, seconds=seconds))

    def drop_after_store(self, n: int = 1, *, on: str | None = CREATE) -> None:
        """Act on the next `n` requests, then close the connection without an answer."""
        self.faults.append(Fault("drop", on, count=n))

    def clear_faults(self) -> None:
        self.faults.clear()

    # ---- machinery ---------------------------------------------------------------------------

    def _take(self, kinds: tuple[str, ...], endpoint: str, now: float) -> Fault | None:
        for fault in self.faults:
            if fault.kind in kinds and fault.matches(endpoint, now):
                if fault.count > 0:
                    fault.count -= 1
                return fault
        return None

    def _budget(self, endpoint: str, now: float) -> Budget:
        budget = self.budgets.get(endpoint)
        if budget is None:
            limit, window = self.limits.get(endpoint, self.default_limit)
            budget = self.budgets[endpoint] = Budget(limit, window, started=now)
        budget.roll(now)
        return budget

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route_name = request.match_info.route.name or "unknown"
        if route_name.startswith("_fake."):
            return await handler(request)
        endpoint = route_name.split(".", 1)[0]
        self.state.requests[endpoint] += 1
        self.state.requests["total"] += 1
        now = time.time()
        self.faults = [f for f in self.faults if f.alive(now)]
        budget = self._budget(endpoint, now)

        response = self._before(request, endpoint, budget, now)
        if response is not None:
            for name, value in self.rate_headers(
                budget.limit, budget.remaining, budget.reset_at
            ).items():
                response.headers.setdefault(name, value)
            self.state.save()
            return response
        budget.used += 1
        reject = self._take(("reject",), endpoint, now)
        if reject is not None:
            response = self.rejection(reject.status or None, reject.detail or None)
        else:
            response = await handler(request)
        response.headers.update(self.rate_headers(budget.limit, budget.remaining, budget.reset_at))
        self.state.save()

        if 200 <= response.status < 300:
            after = self._take(("slow", "drop"), endpoint, time.time())
            if after is not None and after.kind == "slow":
                await asyncio.sleep(after.seconds)
            elif after is not None and after.kind == "drop":
                assert request.transport is not None
                request.transport.close()
        return response

    def _before(
        self, request: web.Request, endpoint: str, budget: Budget, now: float
    ) -> web.Response | None:
        """An answer given without acting: an injected failure, a 401, or the budget's 429."""
        fault = self._take(("fail",), endpoint, now)
        if fault is not None:
            response = self.error(fault.status, "injected failure")
            if fault.status == 429:
                reset_at = fault.reset_at or budget.reset_at
                response.headers.update(self.rate_headers(budget.limit, 0, reset_at))
            return response
        if endpoint not in self.open_endpoints:
            refused = self.authenticate(request, endpoint)
            if refused is not None:
                return refused
        if budget.remaining == 0:
            response = self.error(429, "Too Many Requests")
            response.headers.update(self.rate_headers(budget.limit, 0, budget.reset_at))
            return response
        return None

    async def _control_faults(self, request: web.Request) -> web.Response:
        """`{"op": "fail_next", "args": {"n": 2}}`: the fault methods, for another process."""
        body = await request.json()
        if body.get("op") not in self.control_ops:
            return web.json_response({"error": f"ops are {sorted(self.control_ops)}"}, status=400)
        op: Callable[..., None] = getattr(self, body["op"])
        op(**body.get("args", {}))
        return web.json_response({"faults": len(self.faults)})

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.to_json())


def epoch(value: float) -> str:
    return str(int(value))
