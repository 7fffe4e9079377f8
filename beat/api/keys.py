"""Typed application state keys: every resource the handlers may reach, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry
from tortoise.context import TortoiseContext

from beat.accounts import Auth
from beat.areas import AreaLocator
from beat.clock import Clock
from beat.models import User
from beat.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", TortoiseContext)
AUTH = web.AppKey("auth", Auth)
LOCATOR = web.AppKey("locator", AreaLocator)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
METRICS = web.AppKey("metrics", CollectorRegistry)
# Wakes delivery workers at once after an approval: this process's directly, others'
# through PostgreSQL NOTIFY (they also poll every second, so nothing waits on it).
WAKE_DELIVERY: web.AppKey[Callable[[], Awaitable[None]]] = web.AppKey("wake_delivery")

# Per-request state.
REQUEST_ID = web.RequestKey("request_id", str)
ACTOR = web.RequestKey("actor", User)
SESSION_ID = web.RequestKey("session_id", uuid.UUID)
