"""A local Mastodon instance for one account: statuses, media, bearer tokens, Idempotency-Key."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes import FakeService, StoredMedia, StoredPost

TOKEN = "fake-mastodon-token"
BASE_URL = "https://police.example.social"
ACCOUNT = {
    "id": "109000000000000001",
    "username": "citypolice",
    "acct": "citypolice",
    "display_name": "City of London Police",
    "url": f"{BASE_URL}/@citypolice",
}
MAX_CHARACTERS = 500
MAX_DESCRIPTION = 1500
IDEMPOTENCY_SECONDS = 3600
URL_RE = re.compile(r"https?://[^\s<]+[^\s<.,;:!?)\]'\"]")
TAG_RE = re.compile(r"(?<![\w/])#(\w+)")


def characters(text: str) -> int:
    return len(URL_RE.sub("x" * 23, text))


def iso(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_html(text: str) -> str:
    """Mastodon's rendering of plain text: escaped, linkified, in paragraphs."""

    def link(match: re.Match[str]) -> str:
        url = html.unescape(match.group())
        scheme, _, rest = url.partition("://")
        shown, hidden = rest[:30], rest[30:]
        return (
            f'<a href="{html.escape(url)}" rel="nofollow noopener" translate="no" '
            f'target="_blank"><span class="invisible">{scheme}://</span>'
            f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(hidden)}</span></a>'
        )

    def tag(match: re.Match[str]) -> str:
        name = match.group(1)
        return (
            f'<a href="{BASE_URL}/tags/{name.lower()}" class="mention hashtag" rel="tag">'
            f"#<span>{name}</span></a>"
        )

    paragraphs = []
    for paragraph in re.split(r"\n{2,}", text.strip()):
        escaped = html.escape(paragraph)
        escaped = URL_RE.sub(link, escaped)
        escaped = TAG_RE.sub(tag, escaped)
        paragraphs.append("<p>" + escaped.replace("\n", "<br />") + "</p>")
    return "".join(paragraphs)


class FakeMastodon(FakeService):
    """Mastodon's REST API for one account (`ACCOUNT`), with the access token `TOKEN`.

    Wire format as Mastodon answers it: errors are `{"error": "..."}`, a status's text comes back
    only as HTML `content` (paragraphs, `<br />`, links cut into invisible/ellipsis spans,
    hashtags as links), 422 for validation failures such as text over 500 characters (a link counts
    23), and `X-RateLimit-Limit/Remaining/Reset` (the reset an ISO 8601 time) on every answer. A
    repeated `Idempotency-Key` within an hour returns the status it first made, as Mastodon does.
    Set `processing_polls` to have pictures answer 202 and finish after that many polls.
    """

    name = "mastodon"
    # Mastodon's published limits: 300 statuses per 3 hours, 30 media and 30 deletes per 30 min.
    default_limits = {
        "create": (300, 10800.0),
        "media": (30, 1800.0),
        "delete": (30, 1800.0),
    }
    default_limit = (300, 300.0)

    def __init__(self, *, token: str = TOKEN, processing_polls: int = 0, **kwargs: Any) -> None:
        self.token = token
        self.processing_polls = processing_polls
        self.polls: dict[str, int] = {}
        self.idempotency: dict[str, tuple[str, float]] = {}
        super().__init__(**kwargs)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/v1/statuses", self.create, name="create")
        router.add_delete("/api/v1/statuses/{id}", self.delete, name="delete")
        router.add_get("/api/v1/accounts/verify_credentials", self.me, name="me")
        router.add_get("/api/v1/accounts/{id}/statuses", self.timeline, name="timeline")
        router.add_post("/api/v2/media", self.upload, name="media.upload")
        router.add_get("/api/v1/media/{id}", self.media_status, name="media.status")

    # ---- platform formats ----------------------------------------------------------------

    def error(self, status: int, detail: str) -> web.Response:
        if status == 429:
            detail = "Too many requests"
        return web.json_response({"error": detail}, status=status)

    def rejection(self, status: int | None, detail: str | None) -> web.Response:
        return self.error(status or 422, detail or "Validation failed: Text is not allowed")

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": iso(reset_at),
        }

    def authenticate(self, request: web.Request, endpoint: str) -> web.Response | None:
        if request.headers.get("Authorization", "") == f"Bearer {self.token}":
            return None
        return self.error(401, "The access token is invalid")

    def attachment(self, media: StoredMedia) -> dict[str, Any]:
        processing = self.polls.get(media.id, 0) > 0
        url = None if processing else f"{BASE_URL}/system/media_attachments/{media.id}.jpg"
        return {
            "id": media.id,
            "type": "image",
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "description": media.alt_text or None,
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
            "meta": {"original": {"width": 1200, "height": 800}},
        }

    def status(self, post: StoredPost, *, source: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": post.id,
            "created_at": iso(post.created_at),
            "in_reply_to_id": post.reply_to,
            "in_reply_to_account_id": ACCOUNT["id"] if post.reply_to else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": post.extra.get("visibility", "public"),
            "language": post.extra.get("language", "en"),
            "uri": f"{BASE_URL}/users/citypolice/statuses/{post.id}",
            "url": f"{BASE_URL}/@citypolice/{post.id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "content": to_html(post.text),
            "reblog": None,
            "account": ACCOUNT,
            "media_attachments": [self.attachment(m) for m in post.media],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if source:
            data["text"] = post.text
        return data

    # ---- statuses ----------------------------------------------------------------------------

    async def params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body: dict[str, Any] = await request.json()
            return body
        form = await request.post()
        return {
            "status": form.get("status", ""),
            "media_ids": form.getall("media_ids[]", []),
            "in_reply_to_id": form.get("in_reply_to_id"),
            "visibility": form.get("visibility", "public"),
            "language": form.get("language"),
        }

    async def create(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        now = time.time()
        if key and key in self.idempotency:
            status_id, at = self.idempotency[key]
            if now - at < IDEMPOTENCY_SECONDS and not self.state.posts[status_id].deleted:
                return web.json_response(self.status(self.state.posts[status_id]))
        params = await self.params(request)
        text = str(params.get("status") or "")
        media_ids = [str(m) for m in params.get("media_ids") or []]
        if not text.strip() and not media_ids:
            return self.error(422, "Validation failed: Text can't be blank")
        if characters(text) > MAX_CHARACTERS:
            return self.error(
                422, f"Validation failed: Text character limit of {MAX_CHARACTERS} exceeded"
            )
        media = []
        for media_id in media_ids:
            stored = self.state.media.get(media_id)
            if stored is None:
                return self.error(422, "Validation failed: Media attachments are invalid")
            if self.polls.get(media_id, 0) > 0:
                return self.error(
                    422,
                    "Cannot attach files that have not finished processing. Try again in a moment!",
                )
            media.append(StoredMedia(**vars(stored)))
        reply_to = params.get("in_reply_to_id")
        if reply_to is not None:
            reply_to = str(reply_to)
            parent = self.state.posts.get(reply_to)
            if parent is None or parent.deleted:
                return self.error(404, "Record not found")
        post = StoredPost(
            id=self.state.next_id(110_000_000_000_000_000),
            text=text,
            created_at=now,
            reply_to=reply_to,
            media=media,
            extra={
                "visibility": params.get("visibility") or "public",
                "language": params.get("language") or "en",
                "idempotency_key": key,
            },
        )
        self.state.posts[post.id] = post
        if key:
            self.idempotency[key] = (post.id, now)
        return web.json_response(self.status(post))

    async def delete(self, request: web.Request) -> web.Response:
        post = self.state.posts.get(request.match_info["id"])
        if post is None or post.deleted:
            return self.error(404, "Record not found")
        post.deleted = True
        return web.json_response(self.status(post, source=True))

    async def me(self, request: web.Request) -> web.Response:
        source = {"privacy": "public", "sensitive": False, "language": "en", "note": ""}
        return web.json_response({**ACCOUNT, "source": source})

    async def timeline(self, request: web.Request) -> web.Response:
        limit = min(int(request.query.get("limit", "20")), 40)
        posts = self.state.live() if request.match_info["id"] == ACCOUNT["id"] else []
        if request.query.get("exclude_replies") == "true":
            posts = [p for p in posts if p.reply_to is None]
        return web.json_response([self.status(p) for p in reversed(posts)][:limit])

    # ---- media -------------------------------------------------------------------------------

    async def upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        file = form.get("file")
        if not isinstance(file, web.FileField):
            return self.error(422, "Validation failed: File can't be blank")
        description = str(form.get("description", ""))
        if len(description) > MAX_DESCRIPTION:
            return self.error(
                422, f"Validation failed: Description is too long (maximum is {MAX_DESCRIPTION})"
            )
        media_id = self.state.next_id(110_000_000_000_000_000)
        stored = StoredMedia(
            id=media_id,
            mime_type=file.content_type,
            size=len(file.file.read()),
            alt_text=description,
        )
        self.state.media[media_id] = stored
        if self.processing_polls:
            self.polls[media_id] = self.processing_polls
            return web.json_response(self.attachment(stored), status=202)
        return web.json_response(self.attachment(stored))

    async def media_status(self, request: web.Request) -> web.Response:
        stored = self.state.media.get(request.match_info["id"])
        if stored is None:
            return self.error(404, "Record not found")
        if self.polls.get(stored.id, 0) > 0:
            self.polls[stored.id] -= 1
        processing = self.polls.get(stored.id, 0) > 0
        return web.json_response(self.attachment(stored), status=206 if processing else 200)
