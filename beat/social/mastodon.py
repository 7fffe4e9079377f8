"""Mastodon: its documented REST API over aiohttp, posts made idempotent with Idempotency-Key."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from beat.channels import ChannelError, ChannelKind, FailureKind, Media, Part, Sent
from beat.social.base import (
    TRANSPORT_ERRORS,
    Adapter,
    iso_time,
    read,
    retry_after,
    same_text,
    status_error,
    transport_error,
)

FIND_DEPTH = 40  # the most one page of an account's statuses holds
# A picture Mastodon is still processing (202) is polled this often, within the timeout.
PROCESSING_POLL_SECONDS = 0.25


class MastodonChannel(Adapter):
    """One Mastodon account: its instance's URL and an access token with read and write scopes."""

    kind = ChannelKind.MASTODON

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        session: aiohttp.ClientSession,
        base_url: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        url = base_url or credentials.get("base_url", "")
        token = credentials.get("access_token", "")
        if not url or not token:
            raise ChannelError(FailureKind.AUTH_FAILED, "Mastodon needs base_url and access_token")
        super().__init__(session, url, timeout=timeout)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.account_id: str | None = None

    # ---- the Channel protocol ----------------------------------------------------------------

    async def check(self) -> str:
        async with self.timed("check"):
            account = await self._request("GET", "/api/v1/accounts/verify_credentials")
            self.account_id = str(account["id"])
            return str(account["acct"])

    async def publish(self, part: Part, *, reply_to: Sent | None, key: str) -> Sent:
        async with self.timed("publish"):
            media_ids = [await self._upload(m) for m in part.media]
            body: dict[str, Any] = {"status": part.text, "visibility": "public"}
            if media_ids:
                body["media_ids"] = media_ids
            if reply_to is not None:
                body["in_reply_to_id"] = reply_to.remote_id
            # Mastodon answers a repeated key (for an hour) with the status it first made.
            status = await self._request(
                "POST",
                "/api/v1/statuses",
                json=body,
                headers={"Idempotency-Key": key},
                creating=True,
            )
            return Sent(remote_id=str(status["id"]), url=str(status.get("url") or ""))

    async def delete(self, remote_id: str) -> None:
        async with self.timed("delete"):
            await self._request("DELETE", f"/api/v1/statuses/{remote_id}", missing_ok=True)

    async def find(self, text: str, *, reply_to: Sent | None) -> Sent | None:
        async with self.timed("find"):
            if self.account_id is None:
                account = await self._request("GET", "/api/v1/accounts/verify_credentials")
                self.account_id = str(account["id"])
            statuses = await self._request(
                "GET",
                f"/api/v1/accounts/{self.account_id}/statuses",
                params={"limit": str(FIND_DEPTH), "exclude_reblogs": "true"},
            )
            parent = reply_to.remote_id if reply_to else None
            for status in statuses:
                in_reply_to = status.get("in_reply_to_id")
                if (
                    same_text(plain_text(str(status.get("content", ""))), text)
                    and (str(in_reply_to) if in_reply_to is not None else None) == parent
                ):
                    return Sent(remote_id=str(status["id"]), url=str(status.get("url") or ""))
            return None

    # ---- HTTP --------------------------------------------------------------------------------

    async def _upload(self, media: Media) -> str:
        form = aiohttp.FormData()
        form.add_field(
            "file", await read(media), filename=media.path.name, content_type=media.mime_type
        )
        form.add_field("description", media.alt_text)
        attachment = await self._request("POST", "/api/v2/media", data=form)
        media_id = str(attachment["id"])
        # 202: accepted, still processing; a status naming it now would be refused (422).
        loop = asyncio.get_running_loop()
        give_up = loop.time() + (self.timeout.total or 15.0)
        while attachment.get("url") is None:
            if loop.time() >= give_up:
                raise ChannelError(
                    FailureKind.UNAVAILABLE, "Mastodon is still processing the picture"
                )
            await asyncio.sleep(PROCESSING_POLL_SECONDS)
            attachment = await self._request("GET", f"/api/v1/media/{media_id}")
        return media_id

    async def _request(
        self,
        method: str,
        path: str,
        *,
        creating: bool = False,
        missing_ok: bool = False,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        try:
            async with self.session.request(
                method,
                self.base_url + path,
                headers={**self.headers, **(headers or {})},
                timeout=self.timeout,
                **kwargs,
            ) as response:
                raw = await response.read()
                if response.status == 404 and missing_ok:
                    return None
                if response.status >= 400:
                    raise self._error(response, raw, creating=creating)
                return json.loads(raw) if raw.strip() else None
        except ChannelError:
            raise
        except (*TRANSPORT_ERRORS, ValueError) as exc:
            raise transport_error(exc, creating=creating) from exc

    def _error(
        self, response: aiohttp.ClientResponse, raw: bytes, *, creating: bool
    ) -> ChannelError:
        try:
            detail = str(json.loads(raw).get("error", ""))
        except (ValueError, AttributeError):
            detail = response.reason or ""
        retry_at = iso_time(response.headers.get("X-RateLimit-Reset")) or retry_after(
            response.headers, datetime.now(UTC)
        )
        return status_error(response.status, detail, creating=creating, retry_at=retry_at)


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</p>\s*<p>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def plain_text(content: str) -> str:
    """A status's HTML `content` back to the text that was posted."""
    text = _PARAGRAPH.sub("\n\n", content)
    text = _BREAK.sub("\n", text)
    return html.unescape(_TAG.sub("", text))
