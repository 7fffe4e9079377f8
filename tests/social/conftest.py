"""What every adapter test shares: its platform's local server (each module's `fake`), served
on loopback, and a client session for the adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.fakes import FakeService


@pytest.fixture
async def server(aiohttp_server, fake: FakeService) -> TestServer:  # type: ignore[no-untyped-def]
    started: TestServer = await aiohttp_server(fake.app)
    return started


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened
