"""Typed application state keys: every resource the handlers may reach, in one place."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry
from tortoise.context import TortoiseContext

from beat.accounts import Auth
from beat.areas import AreaLocator
from beat.clock import Clock
from beat.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", TortoiseContext)
AUTH = web.AppKey("auth", Auth)
LOCATOR = web.AppKey("locator", AreaLocator)
CLOCK = web.AppKey("clock", Clock)
METRICS = web.AppKey("metrics", CollectorRegistry)
