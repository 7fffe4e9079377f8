"""Senders of area alerts to outside push services; which one a deployment uses."""

from __future__ import annotations

import aiohttp

from beat import follows
from beat.push.webpush import WebPushSender
from beat.settings import Settings


def sender_for(settings: Settings, session: aiohttp.ClientSession) -> follows.AlertSender:
    """Web Push when a VAPID key is configured, else the logging sender."""
    key = follows.vapid_key(settings)
    if key is None:
        return follows.LoggingSender()
    return WebPushSender(
        key,
        session=session,
        base_url=settings.public_base_url,
        timeout=settings.channel_timeout_seconds,
    )
