"""Bluesky: the PDS's XRPC methods over aiohttp, signed in with an app password."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from PIL import Image

from beat.channels import ChannelError, ChannelKind, FailureKind, Media, Part, Sent
from beat.social.base import (
    TRANSPORT_ERRORS,
    Adapter,
    epoch_time,
    read,
    same_text,
    status_error,
    transport_error,
)

BLUESKY_URL = "https://bsky.social"
POST = "app.bsky.feed.post"
FIND_DEPTH = 50
ROOTS_KEPT = 1000
# XRPC error names that mean the account's credentials no longer work, whatever the status.
AUTH_ERRORS = frozenset(
    {"AuthenticationRequired", "InvalidToken", "AccountTakedown", "AccountDeactivated"}
)


@dataclass
class Login:
    """A session on the PDS: tokens and who they are for."""

    access: str
    refresh: str
    did: str
    handle: str


class XrpcError(Exception):
    """An XRPC error answer, kept whole until we know what the call was (internal)."""

    def __init__(self, status: int, name: str, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message
        self.headers = headers


# Bluesky's post schema refuses images over 1,000,000 bytes; Beat keeps photos up to 2048 px.
BLOB_LIMIT = 1_000_000


def fit_blob(data: bytes, limit: int = BLOB_LIMIT) -> bytes:
    """The picture as a JPEG under `limit` bytes: smaller quality first, then smaller size.

    Beat's stored photos carry no metadata, and nothing added here brings any back.
    """
    if len(data) <= limit:
        return data
    with Image.open(io.BytesIO(data)) as opened:
        picture = opened.convert("RGB")
    for scale in (1.0, 0.85, 0.7, 0.55, 0.4, 0.3):
        size = (max(1, int(picture.width * scale)), max(1, int(picture.height * scale)))
        resized = picture.resize(size, Image.Resampling.LANCZOS) if scale < 1 else picture
        for quality in (85, 75, 65):
            out = io.BytesIO()
            resized.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= limit:
                return out.getvalue()
    raise ChannelError(FailureKind.REJECTED, "the picture cannot be made small enough for Bluesky")


class BlueskyChannel(Adapter):
    """One Bluesky account: its handle and an app password, on its PDS (`base_url`).

    Plain XRPC rather than the `atproto` SDK: the SDK brings its own HTTP client (httpx), so it
    could not share the injected aiohttp session or its timeout, and the methods Beat needs are
    a handful of small JSON calls.
    """

    kind = ChannelKind.BLUESKY

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        session: aiohttp.ClientSession,
        base_url: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        super().__init__(
            session, base_url or credentials.get("base_url") or BLUESKY_URL, timeout=timeout
        )
        self.identifier = credentials.get("handle", "")
        self.password = credentials.get("app_password", "")
        if not self.identifier or not self.password:
            raise ChannelError(FailureKind.AUTH_FAILED, "Bluesky needs handle and app_password")
        self.login: Login | None = None
        self.lock = asyncio.Lock()
        # Thread roots of posts this adapter made, so a reply needs no extra read.
        self.roots: dict[str, dict[str, str]] = {}

    # ---- the Channel protocol ----------------------------------------------------------------

    async def check(self) -> str:
        async with self.timed("check"):
            self.login = None
            login = await self._login()
            return login.handle

    async def publish(self, part: Part, *, reply_to: Sent | None, key: str) -> Sent:
        # Bluesky has no idempotency key; `find` is how a repeat is avoided.
        async with self.timed("publish"):
            record: dict[str, Any] = {
                "$type": POST,
                "text": part.text,
                "createdAt": datetime.now(UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
            }
            if part.links:
                record["facets"] = [link_facet(*link) for link in part.links]
            if part.media:
                images = [await self._upload(m) for m in part.media]
                record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
            if reply_to is not None:
                parent = {"uri": reply_to.remote_id, "cid": reply_to.cid}
                record["reply"] = {"root": await self._root_of(parent), "parent": parent}
            login = await self._login()
            created = await self._call(
                "POST",
                "com.atproto.repo.createRecord",
                json={"repo": login.did, "collection": POST, "record": record},
                creating=True,
            )
            uri, cid = str(created["uri"]), str(created["cid"])
            if len(self.roots) >= ROOTS_KEPT:
                self.roots.pop(next(iter(self.roots)))  # the oldest thread is long finished
            self.roots[uri] = record["reply"]["root"] if reply_to else {"uri": uri, "cid": cid}
            return Sent(remote_id=uri, url=self._web_url(uri), cid=cid)

    async def delete(self, remote_id: str) -> None:
        async with self.timed("delete"):
            login = await self._login()
            # deleteRecord succeeds whether or not the record is still there.
            await self._call(
                "POST",
                "com.atproto.repo.deleteRecord",
                json={"repo": login.did, "collection": POST, "rkey": rkey_of(remote_id)},
            )
            self.roots.pop(remote_id, None)

    async def find(self, text: str, *, reply_to: Sent | None) -> Sent | None:
        # The PDS's own list, newest first, rather than the AppView's author feed: it shows a
        # post the moment it is stored, which is what resolving an unknown outcome needs.
        async with self.timed("find"):
            login = await self._login()
            page = await self._call(
                "GET",
                "com.atproto.repo.listRecords",
                params={"repo": login.did, "collection": POST, "limit": str(FIND_DEPTH)},
            )
            parent = reply_to.remote_id if reply_to else None
            for record in page.get("records", []):
                value = record.get("value", {})
                replying_to = (value.get("reply") or {}).get("parent", {}).get("uri")
                if same_text(str(value.get("text", "")), text) and replying_to == parent:
                    uri = str(record["uri"])
                    return Sent(remote_id=uri, url=self._web_url(uri), cid=str(record["cid"]))
            return None

    # ---- records, blobs, threads -------------------------------------------------------------

    async def _upload(self, media: Media) -> dict[str, Any]:
        uploaded = await self._call(
            "POST",
            "com.atproto.repo.uploadBlob",
            data=await asyncio.to_thread(fit_blob, await read(media)),
            headers={"Content-Type": "image/jpeg"},
        )
        return {"image": uploaded["blob"], "alt": media.alt_text}

    async def _root_of(self, parent: dict[str, str]) -> dict[str, str]:
        """The first post of the parent's thread: the parent's own root, or the parent."""
        known = self.roots.get(parent["uri"])
        if known is not None:
            return known
        login = await self._login()
        record = await self._call(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": login.did, "collection": POST, "rkey": rkey_of(parent["uri"])},
        )
        root = record.get("value", {}).get("reply", {}).get("root")
        return dict(root) if root else parent

    def _web_url(self, uri: str) -> str:
        handle = self.login.handle if self.login else self.identifier
        return f"https://bsky.app/profile/{handle}/post/{rkey_of(uri)}"

    # ---- sessions and calls ------------------------------------------------------------------

    async def _login(self) -> Login:
        async with self.lock:
            if self.login is None:
                body = await self._plain(
                    "POST",
                    "com.atproto.server.createSession",
                    json={"identifier": self.identifier, "password": self.password},
                )
                self.login = as_login(body)
            return self.login

    async def _refresh(self, stale: Login) -> Login:
        """New tokens after ExpiredToken: refresh, or sign in again if the refresh token is
        spent too. Under the lock, so concurrent calls refresh once."""
        async with self.lock:
            if self.login is stale:
                try:
                    body = await self._plain(
                        "POST", "com.atproto.server.refreshSession", token=stale.refresh
                    )
                    self.login = as_login(body)
                except ChannelError as exc:
                    if exc.kind not in (FailureKind.REJECTED, FailureKind.AUTH_FAILED):
                        raise
                    self.login = None  # the refresh token is spent or expired: sign in anew
        return await self._login()

    async def _plain(self, method: str, nsid: str, **kwargs: Any) -> Any:
        """A session call: nothing public happens, so no answer means UNAVAILABLE."""
        try:
            return await self._send(method, nsid, **kwargs)
        except XrpcError as exc:
            raise as_channel_error(exc, creating=False) from exc
        except (*TRANSPORT_ERRORS, ValueError) as exc:
            raise transport_error(exc, creating=False) from exc

    async def _call(self, method: str, nsid: str, *, creating: bool = False, **kwargs: Any) -> Any:
        """An authenticated XRPC call, sent again once with new tokens after ExpiredToken (the
        PDS refused before acting, so that is safe even for a post)."""
        login = await self._login()
        for attempt in range(2):
            try:
                return await self._send(method, nsid, token=login.access, **kwargs)
            except XrpcError as exc:
                if attempt == 1 or exc.name not in {"ExpiredToken", "InvalidToken"}:
                    raise as_channel_error(exc, creating=creating) from exc
            except (*TRANSPORT_ERRORS, ValueError) as exc:
                raise transport_error(exc, creating=creating) from exc
            login = await self._refresh(login)
        raise AssertionError("unreachable")

    async def _send(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method,
            f"{self.base_url}/xrpc/{nsid}",
            headers=all_headers,
            timeout=self.timeout,
            **kwargs,
        ) as response:
            raw = await response.read()
            if response.status < 400:
                return json.loads(raw) if raw.strip() else {}
            try:
                body = json.loads(raw)
                name, message = str(body.get("error", "")), str(body.get("message", ""))
            except (ValueError, AttributeError):
                name, message = "", response.reason or ""
            raise XrpcError(response.status, name, message, response.headers)


def as_channel_error(exc: XrpcError, *, creating: bool) -> ChannelError:
    if exc.name in AUTH_ERRORS:
        return ChannelError(FailureKind.AUTH_FAILED, str(exc))
    retry_at = epoch_time(exc.headers.get("ratelimit-reset"))
    return status_error(
        exc.status, f"{exc.name}: {exc.message}", creating=creating, retry_at=retry_at
    )


def as_login(body: Mapping[str, Any]) -> Login:
    return Login(
        access=str(body["accessJwt"]),
        refresh=str(body["refreshJwt"]),
        did=str(body["did"]),
        handle=str(body["handle"]),
    )


def link_facet(byte_start: int, byte_end: int, url: str) -> dict[str, Any]:
    """A rich-text link over a span of the text's UTF-8 bytes."""
    return {
        "index": {"byteStart": byte_start, "byteEnd": byte_end},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
    }


def rkey_of(uri: str) -> str:
    """The record key, last part of `at://did/collection/rkey`."""
    return uri.rstrip("/").rsplit("/", 1)[-1]
