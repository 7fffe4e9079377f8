"""The data.police.uk JSON API over aiohttp, kept within its published rate limit."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from beat.errors import SourceError

log = logging.getLogger(__name__)

# police.uk: "15 requests per second with a burst of 30" (leaky bucket, 429 above it).
RATE_PER_SECOND = 15.0
BURST = 30


class TokenBucket:
    """A leaky-bucket budget shared by every request of one client."""

    def __init__(self, rate: float = RATE_PER_SECOND, burst: int = BURST) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class PoliceUkClient:
    """GETs police.uk documents, retrying 429 and 5xx with backoff; failures become SourceError."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float = 60.0,
        retries: int = 4,
        bucket: TokenBucket | None = None,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.bucket = bucket or TokenBucket()

    def describe(self, *parts: str) -> str:
        return self.base_url + "/" + "/".join(quote(p, safe="") for p in parts)

    async def get_json(self, *parts: str) -> Any:
        url = self.describe(*parts)
        delay = 0.5
        for attempt in range(self.retries + 1):
            await self.bucket.take()
            try:
                async with self.session.get(url, timeout=self.timeout) as response:
                    if response.status == 200:
                        try:
                            return await response.json(content_type=None)
                        except ValueError as exc:
                            raise SourceError("the response is not JSON", location=url) from exc
                    if response.status == 404:
                        raise SourceError("not found (404)", location=url)
                    retryable = response.status == 429 or response.status >= 500
                    if not retryable or attempt == self.retries:
                        raise SourceError(f"HTTP {response.status}", location=url)
                    retry_after = response.headers.get("Retry-After", "")
                    wait = float(retry_after) if retry_after.isdigit() else delay
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt == self.retries:
                    raise SourceError(f"unreachable ({type(exc).__name__})", location=url) from exc
                wait = delay
            log.info("police.uk retry", extra={"url": url, "attempt": attempt + 1, "wait": wait})
            await asyncio.sleep(wait + random.uniform(0, wait / 2))  # noqa: S311 - jitter only
            delay = min(delay * 2, 30.0)
        raise SourceError("gave up", location=url)
