"""A local Bluesky PDS for one account: sessions, posts as repo records, blobs, the author feed."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import regex
from aiohttp import web

from tests.fakes import FakeService, StoredMedia, StoredPost

HANDLE = "citypolice.bsky.social"
DID = "did:plc:fakecitypolice7kq2xw4ud3"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
POST = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_IMAGE_BYTES = 1_000_000
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
AUTH_ERRORS = {401: "AuthenticationRequired", 429: "RateLimitExceeded"}


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def tid(micros: int, clock_id: int = 0) -> str:
    """A record key as the PDS makes them: 13 sortable base32 characters of time and clock id."""
    value = (micros << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def cid_of(payload: Any) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


class FakeBluesky(FakeService):
    """The PDS's XRPC methods for one account (`HANDLE`/`DID`), app password `APP_PASSWORD`.

    Wire format as the PDS answers it (XRPC): errors are `{"error": Name, "message": ...}`; an
    expired access token is `400 ExpiredToken`, which `refreshSession` cures; a post over 300
    graphemes, a bad facet or reply reference is `400 InvalidRequest`; `ratelimit-limit/remaining/
    reset/policy` come on every answer. Posts are keyed by their `at://` URI in `state.posts`, with
    `extra` holding the cid, the thread's root URI and the facets. `expire_tokens()` expires every
    access token handed out so far.
    """

    name = "bluesky"
    open_endpoints = frozenset({"session", "refresh"})
    control_ops = FakeService.control_ops | {"expire_tokens"}
    # Bluesky's published limits: 30 sessions per 5 minutes; writes 5000 points an hour
    # (a create costs 3); 3000 requests per 5 minutes overall.
    default_limits = {"session": (30, 300.0), "create": (1666, 3600.0)}
    default_limit = (3000, 300.0)

    def __init__(
        self, *, password: str = APP_PASSWORD, access_ttl: float = 7200.0, **kwargs: Any
    ) -> None:
        self.password = password
        self.access_ttl = access_ttl
        self.access: dict[str, float] = {}  # token -> expires at
        self.refresh: set[str] = set()
        self.clock_id = 0
        super().__init__(**kwargs)

    def routes(self, router: web.UrlDispatcher) -> None:
        x = "/xrpc/"
        router.add_post(x + "com.atproto.server.createSession", self.create_session, name="session")
        router.add_post(
            x + "com.atproto.server.refreshSession", self.refresh_session, name="refresh"
        )
        router.add_get(x + "com.atproto.server.getSession", self.get_session, name="me")
        router.add_post(x + "com.atproto.repo.createRecord", self.create, name="create")
        router.add_post(x + "com.atproto.repo.deleteRecord", self.delete, name="delete")
        router.add_get(x + "com.atproto.repo.getRecord", self.get_record, name="read")
        router.add_get(x + "com.atproto.repo.listRecords", self.list_records, name="timeline.list")
        router.add_post(x + "com.atproto.repo.uploadBlob", self.upload, name="media")
        router.add_get(x + "app.bsky.feed.getAuthorFeed", self.feed, name="timeline")

    # ---- test controls -----------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every access token handed out so far is now expired (refresh tokens still work)."""
        for token in self.access:
            self.access[token] = 0.0

    # ---- platform formats ----------------------------------------------------------------

    def error(self, status: int, detail: str) -> web.Response:
        name = AUTH_ERRORS.get(status, "InternalServerError" if status >= 500 else "InvalidRequest")
        message = "Rate Limit Exceeded" if status == 429 else detail
        return self.xrpc_error(status, name, message)

    def xrpc_error(self, status: int, name: str, message: str) -> web.Response:
        return web.json_response({"error": name, "message": message}, status=status)

    def rejection(self, status: int | None, detail: str | None) -> web.Response:
        return self.xrpc_error(
            status or 400, "InvalidRequest", detail or "Invalid app.bsky.feed.post record"
        )

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(int(reset_at)),
            "ratelimit-policy": f"{limit};w=300",
        }

    def authenticate(self, request: web.Request, endpoint: str) -> web.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expires = self.access.get(token)
        if expires is None:
            return self.xrpc_error(401, "AuthenticationRequired", "Invalid token")
        if expires <= time.time():
            return self.xrpc_error(400, "ExpiredToken", "Token has expired")
        return None

    def tokens(self) -> dict[str, Any]:
        access = "access-" + secrets.token_urlsafe(16)
        refresh = "refresh-" + secrets.token_urlsafe(16)
        self.access[access] = time.time() + self.access_ttl
        self.refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": HANDLE, "did": DID}

    # ---- sessions ----------------------------------------------------------------------------

    async def create_session(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("identifier") not in (HANDLE, DID) or body.get("password") != self.password:
            return self.xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return web.json_response({**self.tokens(), "active": True})

    async def refresh_session(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.refresh:
            return self.xrpc_error(400, "ExpiredToken", "Token has been revoked")
        self.refresh.discard(token)  # refresh tokens are single-use
        return web.json_response({**self.tokens(), "active": True})

    async def get_session(self, request: web.Request) -> web.Response:
        return web.json_response({"handle": HANDLE, "did": DID, "active": True})

    # ---- records -----------------------------------------------------------------------------

    def uri(self, rkey: str) -> str:
        return f"at://{DID}/{POST}/{rkey}"

    def invalid(self, message: str) -> web.Response:
        return self.xrpc_error(400, "InvalidRequest", f"Invalid {POST} record: {message}")

    def check_record(self, record: dict[str, Any]) -> web.Response | list[StoredMedia]:
        """Validate a post as the PDS's lexicon does; the pictures it embeds if it is valid."""
        text = record.get("text")
        if not isinstance(text, str):
            return self.invalid("Record/text must be a string")
        if graphemes(text) > MAX_GRAPHEMES:
            return self.invalid(f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes")
        if len(text.encode()) > MAX_BYTES:
            return self.invalid(f"Record/text must not be longer than {MAX_BYTES} characters")
        if not isinstance(record.get("createdAt"), str):
            return self.invalid('Record must have the property "createdAt"')
        size = len(text.encode())
        for i, facet in enumerate(record.get("facets", [])):
            index = facet.get("index", {})
            start, end = index.get("byteStart"), index.get("byteEnd")
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= size):
                return self.invalid(f"Record/facets/{i}/index is out of range")
            for feature in facet.get("features", []):
                if feature.get("$type") == "app.bsky.richtext.facet#link" and not feature.get(
                    "uri", ""
                ).startswith(("http://", "https://")):
                    return self.invalid(f"Record/facets/{i}/features must have a valid uri")
        media: list[StoredMedia] = []
        embed = record.get("embed")
        if embed is not None:
            if embed.get("$type") != "app.bsky.embed.images":
                return self.invalid("Record/embed must be app.bsky.embed.images here")
            images = embed.get("images", [])
            if not 1 <= len(images) <= 4:
                return self.invalid("Record/embed/images must have 1 to 4 elements")
            for i, image in enumerate(images):
                if "alt" not in image:
                    return self.invalid(f'Record/embed/images/{i} must have the property "alt"')
                ref = image.get("image", {}).get("ref", {}).get("$link", "")
                blob = self.state.media.get(ref)
                if blob is None:
                    return self.invalid(f"Record/embed/images/{i}/image: blob not found")
                if blob.size > MAX_IMAGE_BYTES:
                    return self.invalid(f"Record/embed/images/{i}/image file too large")
                media.append(StoredMedia(blob.id, blob.mime_type, blob.size, image["alt"]))
        return media

    def resolve(self, ref: Any) -> StoredPost | None:
        if not isinstance(ref, dict):
            return None
        post = self.state.posts.get(str(ref.get("uri")))
        if post is None or post.deleted or post.extra["cid"] != ref.get("cid"):
            return None
        return post

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("repo") not in (DID, HANDLE):
            return self.xrpc_error(400, "InvalidRequest", "Repo does not belong to this session")
        if body.get("collection") != POST:
            return self.xrpc_error(400, "InvalidRequest", "Only posts here")
        record = body.get("record", {})
        checked = self.check_record(record)
        if isinstance(checked, web.Response):
            return checked
        reply = record.get("reply")
        parent = root = None
        if reply is not None:
            parent, root = self.resolve(reply.get("parent")), self.resolve(reply.get("root"))
            if parent is None or root is None:
                return self.invalid("Record/reply must reference existing posts (uri and cid)")
        self.clock_id = (self.clock_id + 1) % 1024
        rkey = tid(time.time_ns() // 1000, self.clock_id)
        uri = self.uri(rkey)
        cid = cid_of(record)
        post = StoredPost(
            id=uri,
            text=record["text"],
            created_at=time.time(),
            reply_to=parent.id if parent else None,
            media=checked,
            extra={
                "cid": cid,
                "rkey": rkey,
                "root": root.id if root else None,
                "facets": record.get("facets", []),
                "record": record,
            },
        )
        self.state.posts[uri] = post
        commit = {"cid": cid_of({"commit": uri}), "rev": tid(time.time_ns() // 1000)}
        return web.json_response(
            {"uri": uri, "cid": cid, "commit": commit, "validationStatus": "valid"}
        )

    async def delete(self, request: web.Request) -> web.Response:
        body = await request.json()
        post = self.state.posts.get(self.uri(str(body.get("rkey"))))
        if post is not None:
            post.deleted = True
        # Deleting what is not there succeeds too: the record is absent either way.
        return web.json_response(
            {"commit": {"cid": cid_of(body), "rev": tid(time.time_ns() // 1000)}}
        )

    async def get_record(self, request: web.Request) -> web.Response:
        post = self.state.posts.get(self.uri(request.query.get("rkey", "")))
        if post is None or post.deleted:
            return self.xrpc_error(400, "RecordNotFound", "Could not locate record")
        return web.json_response(
            {"uri": post.id, "cid": post.extra["cid"], "value": post.extra["record"]}
        )

    async def list_records(self, request: web.Request) -> web.Response:
        if request.query.get("repo") not in (DID, HANDLE):
            return self.xrpc_error(400, "InvalidRequest", "Could not find repo")
        limit = int(request.query.get("limit", "50"))
        if not 1 <= limit <= 100:
            return self.xrpc_error(400, "InvalidRequest", "limit must be between 1 and 100")
        posts = self.state.live()
        if request.query.get("reverse") != "true":
            posts = posts[::-1]  # newest first, by record key
        records = [{"uri": p.id, "cid": p.extra["cid"], "value": p.extra["record"]} for p in posts]
        return web.json_response({"records": records[:limit]})

    async def upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        if not data:
            return self.xrpc_error(400, "InvalidRequest", "Request body is empty")
        mime = request.headers.get("Content-Type", "application/octet-stream")
        cid = "bafkrei" + base64.b32encode(hashlib.sha256(data).digest()).decode().lower()[:52]
        self.state.media[cid] = StoredMedia(id=cid, mime_type=mime, size=len(data))
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}
        return web.json_response({"blob": blob})

    async def feed(self, request: web.Request) -> web.Response:
        if request.query.get("actor") not in (DID, HANDLE):
            return self.xrpc_error(400, "InvalidRequest", "Profile not found")
        limit = int(request.query.get("limit", "50"))
        if not 1 <= limit <= 100:
            return self.xrpc_error(400, "InvalidRequest", "limit must be between 1 and 100")
        author = {"did": DID, "handle": HANDLE, "displayName": "City of London Police"}
        feed = []
        for post in reversed(self.state.live()):
            view = {
                "uri": post.id,
                "cid": post.extra["cid"],
                "author": author,
                "record": post.extra["record"],
                "replyCount": 0,
                "repostCount": 0,
                "likeCount": 0,
                "indexedAt": datetime.fromtimestamp(post.created_at, UTC).isoformat(),
            }
            feed.append({"post": view})
        return web.json_response({"feed": feed[:limit]})
