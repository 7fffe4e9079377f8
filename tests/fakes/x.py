"""A local X API v2: posts, deletes, the user's timeline and v2 media upload, OAuth 1.0a."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import time
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web
from oauthlib.oauth1.rfc5849 import signature

from tests.fakes import FakeService, StoredMedia, StoredPost, epoch

CREDENTIALS = {
    "consumer_key": "fake-consumer-key",
    "consumer_secret": "fake-consumer-secret",
    "access_token": "1500000000000000001-fake-access-token",
    "access_token_secret": "fake-access-token-secret",
}
# An OAuth 2.0 app (confidential client); user tokens are issued with `issue_oauth2_tokens`.
OAUTH2_CLIENT = {"client_id": "fake-oauth2-client-id", "client_secret": "fake-oauth2-client-secret"}
OAUTH2_SCOPES = "tweet.read tweet.write users.read offline.access media.write"
OAUTH2_LIFETIME = 7200
USER = {"id": "1500000000000000001", "name": "City of London Police", "username": "CityPolice"}
CANONICAL_ORIGIN = "https://api.twitter.com"
DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
MAX_WEIGHTED_LENGTH = 280
MAX_IMAGE_BYTES = 5 * 1024 * 1024
URL_RE = re.compile(r"https?://\S+[^\s.,;:!?)\]'\"]")
TITLES = {
    400: "Invalid Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found Error",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def weighted_length(text: str) -> int:
    """Near enough to twitter-text for a fake: every link counts 23."""
    return len(URL_RE.sub("x" * 23, text))


def tco(url: str) -> str:
    return "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]


class FakeX(FakeService):
    """X API v2 for one account (`USER`), with the keys in `CREDENTIALS`.

    Wire format as X answers it: errors are RFC 7807 problems (`application/problem+json`), text
    comes back with `&`, `<` and `>` escaped and links wrapped as `https://t.co/...` (expanded in
    `entities.urls`), a post with a picture ends with the picture's t.co link, and every answer
    carries `x-rate-limit-limit/remaining/reset`. A gateway's 502 and 504 come as HTML, as a CDN's
    would. Requests must be signed (HMAC-SHA1) with this account's keys; a signature made for
    `https://api.twitter.com` is accepted, since tweepy signs that URL whatever host it reaches.
    """

    name = "x"
    # X's published per-user limits: 200 posts and 50 deletes per 15 minutes.
    default_limits = {
        "create": (200, 900.0),
        "delete": (50, 900.0),
        "me": (75, 900.0),
        "timeline": (900, 900.0),
        "media": (500, 900.0),
    }

    open_endpoints = frozenset({"oauth2"})  # the token endpoint checks the client itself

    def __init__(self, *, credentials: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.credentials = credentials or CREDENTIALS
        self.uploads: dict[str, dict[str, Any]] = {}
        # OAuth 2.0 user tokens: access token -> when it expires; refresh tokens still usable.
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.refreshed = 0
        super().__init__(**kwargs)

    def issue_oauth2_tokens(self, lifetime: float = OAUTH2_LIFETIME) -> dict[str, str]:
        """What the app holds after a user authorised it (PKCE flow, offline.access scope)."""
        access, refresh = self._token_pair(lifetime)
        return {**OAUTH2_CLIENT, "access_token": access, "refresh_token": refresh}

    def expire_access_tokens(self) -> None:
        """Every OAuth 2.0 access token issued so far stops working (X's last two hours)."""
        self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    def _token_pair(self, lifetime: float) -> tuple[str, str]:
        access = "fake-oauth2-access-" + secrets.token_urlsafe(12)
        refresh = "fake-oauth2-refresh-" + secrets.token_urlsafe(12)
        self.access_tokens[access] = time.time() + lifetime
        self.refresh_tokens.add(refresh)
        return access, refresh

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/2/tweets", self.create, name="create")
        router.add_delete("/2/tweets/{id}", self.delete, name="delete")
        router.add_get("/2/users/me", self.me, name="me")
        router.add_get("/2/users/{id}/tweets", self.timeline, name="timeline")
        router.add_post("/2/media/upload", self.upload_one_shot, name="media.one_shot")
        router.add_post("/2/media/upload/initialize", self.initialize, name="media.initialize")
        router.add_post("/2/media/upload/{id}/append", self.append, name="media.append")
        router.add_post("/2/media/upload/{id}/finalize", self.finalize, name="media.finalize")
        router.add_post("/2/media/metadata", self.metadata, name="media.metadata")
        router.add_post("/2/oauth2/token", self.token, name="oauth2.token")

    # ---- platform formats ----------------------------------------------------------------

    def error(self, status: int, detail: str) -> web.Response:
        if status in (502, 504):
            return web.Response(
                status=status,
                text=f"<html><body><h1>{status}</h1>upstream trouble</body></html>",
                content_type="text/html",
            )
        return self.problem(status, detail)

    def problem(self, status: int, detail: str, **extra: Any) -> web.Response:
        body = {
            "title": TITLES.get(status, "Error"),
            "detail": detail,
            "type": "about:blank",
            "status": status,
            **extra,
        }
        return web.json_response(body, status=status, content_type="application/problem+json")

    def invalid(self, parameter: str, message: str) -> web.Response:
        return web.json_response(
            {
                "errors": [{"parameters": {parameter: []}, "message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
            status=400,
            content_type="application/problem+json",
        )

    def rejection(self, status: int | None, detail: str | None) -> web.Response:
        return self.problem(
            status or 403, detail or "You are not permitted to perform this action."
        )

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": epoch(reset_at),
        }

    def authenticate(self, request: web.Request, endpoint: str) -> web.Response | None:
        if self.signed(request) or self.bearer(request):
            return None
        return self.problem(401, "Unauthorized")

    def bearer(self, request: web.Request) -> bool:
        """An OAuth 2.0 user access token, issued here and not yet expired."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        expires = self.access_tokens.get(header[len("Bearer ") :].strip())
        return expires is not None and expires > time.time()

    async def token(self, request: web.Request) -> web.Response:
        """`POST /2/oauth2/token`, grant_type=refresh_token: a new pair, the old refresh token
        spent (X rotates them). A confidential client authenticates with HTTP Basic."""
        form = await request.post()
        basic = request.headers.get("Authorization", "")
        expected = base64.b64encode(
            f"{OAUTH2_CLIENT['client_id']}:{OAUTH2_CLIENT['client_secret']}".encode()
        ).decode()
        if basic != f"Basic {expected}" or form.get("client_id") not in (
            None,
            OAUTH2_CLIENT["client_id"],
        ):
            return web.json_response(
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
                status=401,
            )
        if form.get("grant_type") != "refresh_token":
            return web.json_response(
                {
                    "error": "invalid_request",
                    "error_description": "Missing required parameter [grant_type].",
                },
                status=400,
            )
        spent = str(form.get("refresh_token", ""))
        if spent not in self.refresh_tokens:
            return web.json_response(
                {
                    "error": "invalid_request",
                    "error_description": "Value passed for the token was invalid.",
                },
                status=400,
            )
        self.refresh_tokens.discard(spent)
        self.refreshed += 1
        access, refresh = self._token_pair(OAUTH2_LIFETIME)
        return web.json_response(
            {
                "token_type": "bearer",
                "expires_in": OAUTH2_LIFETIME,
                "access_token": access,
                "scope": OAUTH2_SCOPES,
                "refresh_token": refresh,
            }
        )

    def signed(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return False
        oauth = {}
        for item in header[len("OAuth ") :].split(","):
            key, _, value = item.strip().partition("=")
            oauth[unquote(key)] = unquote(value.strip('"'))
        if (
            oauth.get("oauth_consumer_key") != self.credentials["consumer_key"]
            or oauth.get("oauth_token") != self.credentials["access_token"]
            or oauth.get("oauth_signature_method") != "HMAC-SHA1"
        ):
            return False
        params = signature.collect_parameters(
            uri_query=request.rel_url.raw_query_string,
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        normalized = signature.normalize_parameters(params)
        own_origin = f"{request.scheme}://{request.host}"
        for origin in (CANONICAL_ORIGIN, own_origin):
            uri = signature.base_string_uri(origin + request.rel_url.raw_path)
            base = signature.signature_base_string(request.method, uri, normalized)
            if hmac.compare_digest(self.sign(base), oauth.get("oauth_signature", "")):
                return True
        return False

    def sign(self, base: str) -> str:
        """RFC 5849 HMAC-SHA1, keyed with the consumer secret and the token secret."""
        key = "&".join(
            quote(self.credentials[k], safe="~") for k in ("consumer_secret", "access_token_secret")
        )
        digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

    def rendered(self, post: StoredPost, fields: set[str]) -> dict[str, Any]:
        """A post as X shows it: escaped, links wrapped, the picture's link at the end."""
        text = html.escape(post.text, quote=False)
        urls = []
        for url in dict.fromkeys(URL_RE.findall(text)):
            short = tco(html.unescape(url))
            text = text.replace(url, short)
            urls.append({"url": short, "expanded_url": html.unescape(url), "display_url": url})
        if post.media:
            short = tco(f"media:{post.id}")
            text = f"{text} {short}"
            key = f"3_{post.media[0].id}"
            urls.append({"url": short, "expanded_url": short, "media_key": key})
        for entry in urls:
            entry["start"] = text.index(entry["url"])
            entry["end"] = entry["start"] + len(entry["url"])
        data: dict[str, Any] = {"id": post.id, "text": text, "edit_history_tweet_ids": [post.id]}
        if "entities" in fields and urls:
            data["entities"] = {"urls": urls}
        if "created_at" in fields:
            data["created_at"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(post.created_at)
            )
        if "referenced_tweets" in fields and post.reply_to:
            data["referenced_tweets"] = [{"type": "replied_to", "id": post.reply_to}]
        return data

    # ---- posts -------------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        text = body.get("text", "")
        media_ids = body.get("media", {}).get("media_ids", [])
        if not text and not media_ids:
            return self.invalid("text", "Tweet text or media is required.")
        if weighted_length(text) > MAX_WEIGHTED_LENGTH:
            return self.problem(403, "Your Tweet text is too long.")
        media = []
        for media_id in media_ids:
            stored = self.state.media.get(media_id)
            upload = self.uploads.get(media_id)
            if stored is None or (upload is not None and not upload["finalized"]):
                return self.invalid("media.media_ids", "Your media IDs are invalid.")
            media.append(StoredMedia(**vars(stored)))
        reply_to = body.get("reply", {}).get("in_reply_to_tweet_id")
        if reply_to is not None:
            parent = self.state.posts.get(reply_to)
            if parent is None or parent.deleted:
                return self.problem(
                    403, "You attempted to reply to a Tweet that is deleted or not visible to you."
                )
        if text in self.state.texts():
            return self.problem(403, DUPLICATE_DETAIL)
        post = StoredPost(
            id=self.state.next_id(1_900_000_000_000_000_000),
            text=text,
            created_at=time.time(),
            reply_to=reply_to,
            media=media,
        )
        self.state.posts[post.id] = post
        return web.json_response({"data": self.rendered(post, set())}, status=201)

    async def delete(self, request: web.Request) -> web.Response:
        post = self.state.posts.get(request.match_info["id"])
        if post is None or post.deleted:
            return web.json_response(
                {
                    "title": "Not Found Error",
                    "detail": f"Could not find tweet with id: [{request.match_info['id']}].",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                    "status": 404,
                },
                status=404,
                content_type="application/problem+json",
            )
        post.deleted = True
        return web.json_response({"data": {"deleted": True}})

    async def me(self, request: web.Request) -> web.Response:
        return web.json_response({"data": USER})

    async def timeline(self, request: web.Request) -> web.Response:
        fields = set(request.query.get("tweet.fields", "").split(","))
        limit = int(request.query.get("max_results", "10"))
        if not 5 <= limit <= 100:
            return self.invalid("max_results", "max_results must be between 5 and 100.")
        posts = [] if request.match_info["id"] != USER["id"] else self.state.live()
        page = [self.rendered(p, fields) for p in reversed(posts)][:limit]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
            return web.json_response({"data": page, "meta": meta})
        return web.json_response({"meta": meta})

    # ---- media -------------------------------------------------------------------------------

    def media_data(self, media_id: str) -> dict[str, Any]:
        stored = self.state.media[media_id]
        return {
            "id": media_id,
            "media_key": f"3_{media_id}",
            "size": stored.size,
            "expires_after_secs": 86400,
            "image": {"image_type": stored.mime_type, "w": 1200, "h": 800},
        }

    async def initialize(self, request: web.Request) -> web.Response:
        body = await request.json()
        mime = body.get("media_type", "")
        total = int(body.get("total_bytes", 0))
        if not mime.startswith("image/"):
            return self.invalid("media_type", "Only images are supported here.")
        if not 0 < total <= MAX_IMAGE_BYTES:
            return self.invalid("total_bytes", "File size exceeds 5242880 bytes.")
        media_id = self.state.next_id(1_880_000_000_000_000_000)
        self.state.media[media_id] = StoredMedia(id=media_id, mime_type=mime, size=0)
        self.uploads[media_id] = {"total": total, "segments": {}, "finalized": False}
        data = {"id": media_id, "media_key": f"3_{media_id}", "expires_after_secs": 86400}
        return web.json_response({"data": data})

    async def append(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["id"])
        if upload is None or upload["finalized"]:
            return self.invalid("id", "Invalid or expired media id.")
        if request.content_type == "application/json":
            body = await request.json()
            chunk, index = base64.b64decode(body["media"]), int(body["segment_index"])
        else:
            form = await request.post()
            media = form.get("media")
            raw = media.file.read() if isinstance(media, web.FileField) else b""
            chunk, index = raw, int(str(form.get("segment_index", "0")))
        if not chunk:
            return self.invalid("media", "Missing media field.")
        upload["segments"][index] = len(chunk)
        return web.json_response({"data": {"expires_at": int(time.time()) + 86400}})

    async def finalize(self, request: web.Request) -> web.Response:
        media_id = request.match_info["id"]
        upload = self.uploads.get(media_id)
        if upload is None:
            return self.invalid("id", "Invalid or expired media id.")
        received = sum(upload["segments"].values())
        if received != upload["total"]:
            return self.invalid("total_bytes", "Segments do not add up to the declared total.")
        upload["finalized"] = True
        self.state.media[media_id].size = received
        return web.json_response({"data": self.media_data(media_id)})

    async def upload_one_shot(self, request: web.Request) -> web.Response:
        form = await request.post()
        media = form.get("media")
        if not isinstance(media, web.FileField):
            return self.invalid("media", "Missing media field.")
        raw = media.file.read()
        media_id = self.state.next_id(1_880_000_000_000_000_000)
        self.state.media[media_id] = StoredMedia(
            id=media_id, mime_type=media.content_type, size=len(raw)
        )
        return web.json_response({"data": self.media_data(media_id)})

    async def metadata(self, request: web.Request) -> web.Response:
        body = await request.json()
        stored = self.state.media.get(body.get("id", ""))
        if stored is None:
            return self.invalid("id", "Invalid or expired media id.")
        alt = body.get("metadata", {}).get("alt_text", {}).get("text", "")
        if len(alt) > 1000:
            return self.invalid(
                "metadata.alt_text.text", "Alt text must be 1000 characters or fewer."
            )
        stored.alt_text = alt
        return web.json_response(
            {"data": {"id": stored.id, "associated_metadata": {"alt_text": {"text": alt}}}}
        )
