"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291), via pywebpush."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from beat.follows import AlertError, AlertFailure, AlertPayload, VapidKey

log = logging.getLogger(__name__)

# How long a push service keeps an alert for a device that is offline.
TTL = timedelta(hours=12)
GONE = frozenset({404, 410})  # the subscription expired or the user revoked it


class WebPushSender:
    """Sends each alert to its follower's browser push subscription, signed with our VAPID key."""

    def __init__(
        self,
        key: VapidKey,
        *,
        session: aiohttp.ClientSession,
        base_url: str,
        timeout: float,
        ttl: timedelta = TTL,
    ) -> None:
        self._vapid = Vapid(private_key=key.private_key)
        self._subject = key.subject
        self._session = session
        self._base_url = base_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ttl = int(ttl.total_seconds())

    async def send(self, alert: AlertPayload) -> None:
        subscription = alert.push_subscription
        if not subscription:
            raise AlertError(AlertFailure.PERMANENT, "the follower has no push subscription")
        service = urlsplit(str(subscription.get("endpoint", ""))).hostname or "?"
        try:
            await webpush_async(
                subscription_info=dict(subscription),
                data=json.dumps(alert.message(self._base_url)),
                vapid_private_key=self._vapid,
                # pywebpush adds the audience and expiry to the claims it is given: a fresh dict.
                vapid_claims={"sub": self._subject},
                content_encoding="aes128gcm",
                timeout=self._timeout,
                ttl=self._ttl,
                headers={"Urgency": "normal"},
                aiohttp_session=self._session,
            )
        except WebPushException as exc:
            raise _failure(exc, service) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AlertError(
                AlertFailure.TEMPORARY, f"{service} could not be reached: {type(exc).__name__}"
            ) from exc


def _failure(exc: WebPushException, service: str) -> AlertError:
    status = exc.status_code
    if not isinstance(status, int):  # refused before sending: the subscription is unusable
        return AlertError(AlertFailure.PERMANENT, f"not sent: {exc.message}")
    detail = f"{service} answered {status}"
    if status in GONE:
        return AlertError(AlertFailure.GONE, detail)
    if status == 429 or status >= 500:
        return AlertError(AlertFailure.TEMPORARY, detail)
    return AlertError(AlertFailure.PERMANENT, detail)
