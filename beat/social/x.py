"""X: tweepy's AsyncClient for posts, deletes and reads; X's v2 media upload for pictures."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
import tweepy
from aiohttp import hdrs
from aiohttp.client_middlewares import ClientHandlerType, ClientMiddlewareType
from aiohttp.client_reqrep import ClientRequest, ClientResponse
from oauthlib.oauth1 import Client as OAuth1Client
from tweepy.asynchronous import AsyncClient
from yarl import URL

from beat.channels import ChannelError, ChannelKind, CredentialStore, FailureKind, Part, Sent
from beat.social.base import (
    TRANSPORT_ERRORS,
    Adapter,
    epoch_time,
    read,
    same_text,
    status_error,
    transport_error,
)

X_API_URL = "https://api.twitter.com"
OAUTH1_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
OAUTH2_KEYS = ("client_id", "access_token", "refresh_token")
# Renew an OAuth 2.0 access token this long before X says it expires (X gives two hours).
RENEW_MARGIN = 120.0
# X answers a repeated post with a bare 403 (no error code): its message is all there is.
DUPLICATE_MARK = "duplicate content"
MEDIA_CHUNK = 1024 * 1024
FIND_DEPTH = 50


def rewrite_origin(origin: URL, target: URL) -> ClientMiddlewareType:
    """A client middleware that sends requests for `origin` to `target` (scheme, host, port, path
    prefix) instead, Host header included; other requests pass untouched."""
    prefix = target.raw_path.rstrip("/")

    async def middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        if request.url.origin() == origin:
            request.url = URL.build(
                scheme=target.scheme,
                host=target.raw_host or "",
                port=target.explicit_port,
                path=prefix + request.url.raw_path,
                query_string=request.url.raw_query_string,
                encoded=True,
            )
            request.headers[hdrs.HOST] = request.url.host_port_subcomponent or ""
        return await handler(request)

    return middleware


class XSession:
    """What tweepy asks of `client.session` (`request(...)` as a context manager): the injected
    session, with our timeout and, when X is elsewhere, the host-rewriting middleware.

    tweepy addresses https://api.twitter.com whatever it is told, and opens a session per
    request unless `client.session` is set. OAuth 1.0a signs the canonical URL before the
    middleware moves the request, so our media calls go through here too and sign the same way.
    """

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, timeout: aiohttp.ClientTimeout
    ) -> None:
        self.session = session
        self.timeout = timeout
        target = URL(base_url)
        canonical = URL(X_API_URL)
        # Per-request middlewares replace the session's own, so only pass one when needed.
        self.middlewares: tuple[ClientMiddlewareType, ...] | None = (
            None if target == canonical else (rewrite_origin(canonical, target),)
        )

    def request(self, method: str, url: str | URL, **kwargs: Any) -> Any:
        return self.session.request(
            method, url, timeout=self.timeout, middlewares=self.middlewares, **kwargs
        )


class XChannel(Adapter):
    """One X account: OAuth 1.0a user tokens, or OAuth 2.0 user tokens renewed as they expire.

    OAuth 2.0 access tokens last two hours and each renewal spends the refresh token, so a
    renewal goes through the `store` (the database, one process at a time) when there is one.
    """

    kind = ChannelKind.X

    def __init__(
        self,
        credentials: Mapping[str, str],
        *,
        session: aiohttp.ClientSession,
        base_url: str = X_API_URL,
        timeout: float = 15.0,
        store: CredentialStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(session, base_url, timeout=timeout)
        self.oauth2 = "refresh_token" in credentials
        needed = OAUTH2_KEYS if self.oauth2 else OAUTH1_KEYS
        missing = [k for k in needed if not credentials.get(k)]
        if missing:
            raise ChannelError(FailureKind.AUTH_FAILED, f"missing X credentials: {missing}")
        self.credentials = dict(credentials)
        self.store = store
        self.clock = clock
        self.http = XSession(session, base_url, self.timeout)
        if self.oauth2:
            # OAuth 2.0 user context: tweepy sends the user's token as a bearer token.
            self.client = AsyncClient(bearer_token=self.credentials["access_token"])
        else:
            self.client = AsyncClient(**{k: self.credentials[k] for k in OAUTH1_KEYS})
        self.client.session = self.http
        self.user_auth = not self.oauth2
        self.user_id: str | None = None
        self._renewing = asyncio.Lock()

    # ---- the Channel protocol ----------------------------------------------------------------

    async def check(self) -> str:
        async with self.timed("check"):
            response = await self._api(lambda: self.client.get_me(user_auth=self.user_auth))
            self.user_id = str(response.data.id)
            return str(response.data.username)

    async def publish(self, part: Part, *, reply_to: Sent | None, key: str) -> Sent:
        # X has no idempotency key: a repeat is caught by its duplicate-content rule instead.
        async with self.timed("publish"):
            media_ids = [
                await self._upload(await read(m), m.mime_type, m.alt_text) for m in part.media
            ]
            response = await self._api(
                lambda: self.client.create_tweet(
                    text=part.text,
                    media_ids=media_ids or None,
                    in_reply_to_tweet_id=reply_to.remote_id if reply_to else None,
                    user_auth=self.user_auth,
                ),
                creating=True,
            )
            tweet_id = str(response.data["id"])
            return Sent(remote_id=tweet_id, url=status_url(tweet_id))

    async def delete(self, remote_id: str) -> None:
        async with self.timed("delete"):
            try:
                await self._api(
                    lambda: self.client.delete_tweet(remote_id, user_auth=self.user_auth)
                )
            except ChannelError as exc:
                if not isinstance(exc.__cause__, tweepy.NotFound):
                    raise
            # `deleted: false` also means it is not there: either way, done.

    async def find(self, text: str, *, reply_to: Sent | None) -> Sent | None:
        async with self.timed("find"):
            if self.user_id is None:
                me = await self._api(lambda: self.client.get_me(user_auth=self.user_auth))
                self.user_id = str(me.data.id)
            user_id = self.user_id
            response = await self._api(
                lambda: self.client.get_users_tweets(
                    user_id,
                    max_results=FIND_DEPTH,
                    tweet_fields=["entities", "created_at", "referenced_tweets"],
                    exclude=["retweets"],
                    user_auth=self.user_auth,
                )
            )
            parent = reply_to.remote_id if reply_to else None
            for tweet in response.data or []:
                if same_text(as_written(tweet.data), text) and replied_to(tweet.data) == parent:
                    return Sent(remote_id=str(tweet.id), url=status_url(str(tweet.id)))
            return None

    # ---- media: X's v2 upload, which tweepy lacks ------------------------------------------

    async def _upload(self, data: bytes, mime_type: str, alt_text: str) -> str:
        """Initialize, append in chunks, finalize; then the alt text. Returns the media id.

        Nothing is public until the post names the media, so every failure here is safe to retry.
        """
        init = await self._media(
            "POST",
            "/2/media/upload/initialize",
            json={
                "media_type": mime_type,
                "total_bytes": len(data),
                "media_category": "tweet_image",
            },
        )
        media_id = str(init["data"]["id"])
        for index, start in enumerate(range(0, len(data), MEDIA_CHUNK)):
            form = aiohttp.FormData()
            form.add_field("segment_index", str(index))
            form.add_field(
                "media",
                data[start : start + MEDIA_CHUNK],
                filename="media",
                content_type="application/octet-stream",
            )
            await self._media("POST", f"/2/media/upload/{media_id}/append", data=form)
        final = await self._media("POST", f"/2/media/upload/{media_id}/finalize")
        state = final.get("data", {}).get("processing_info", {}).get("state", "succeeded")
        if state == "failed":
            raise ChannelError(FailureKind.REJECTED, "X could not process the picture")
        if state != "succeeded":
            # Pictures are processed at once; waiting here would hold up the whole delivery.
            raise ChannelError(
                FailureKind.UNAVAILABLE, f"X is still processing the picture ({state})"
            )
        if alt_text:
            await self._media(
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": alt_text}}},
            )
        return media_id

    async def _media(
        self, method: Literal["GET", "POST"], path: str, **kwargs: Any
    ) -> dict[str, Any]:
        url = X_API_URL + path
        seen = self.credentials
        try:
            return await self._media_once(method, url, **kwargs)
        except ChannelError as exc:
            if not (self.oauth2 and exc.kind == FailureKind.AUTH_FAILED):
                raise
        await self._renew(seen)
        return await self._media_once(method, url, **kwargs)

    async def _media_once(
        self, method: Literal["GET", "POST"], url: str, **kwargs: Any
    ) -> dict[str, Any]:
        if self.oauth2:
            headers = {"Authorization": f"Bearer {self.credentials['access_token']}"}
        else:
            signer = OAuth1Client(
                self.credentials["consumer_key"],
                self.credentials["consumer_secret"],
                self.credentials["access_token"],
                self.credentials["access_token_secret"],
            )
            # JSON and multipart bodies are not part of an OAuth 1.0a signature: sign the URL.
            _, headers, _ = signer.sign(url, method)
        try:
            async with self.http.request(method, url, headers=headers, **kwargs) as response:
                if response.status >= 400:
                    raise await self._media_error(response)
                raw = await response.read()
                body: dict[str, Any] = json.loads(raw) if raw.strip() else {}
                return body
        except ChannelError:
            raise
        except (*TRANSPORT_ERRORS, ValueError) as exc:
            raise transport_error(exc, creating=False) from exc

    async def _media_error(self, response: aiohttp.ClientResponse) -> ChannelError:
        try:
            body = await response.json(content_type=None)
            detail = str(body.get("detail") or body.get("errors") or body)
        except ValueError:
            detail = response.reason or ""
        retry_at = epoch_time(response.headers.get("x-rate-limit-reset"))
        return status_error(response.status, detail, creating=False, retry_at=retry_at)

    # ---- OAuth 2.0 renewal ---------------------------------------------------------------

    async def _api(self, make: Callable[[], Awaitable[Any]], *, creating: bool = False) -> Any:
        """One API call; with OAuth 2.0, renewed tokens first when they are about to expire,
        and once more after a 401 (X refused the token: nothing was done, so a retry is safe)."""
        if self.oauth2:
            expires_at = float(self.credentials.get("expires_at") or 0)
            if expires_at and self.clock() >= expires_at - RENEW_MARGIN:
                await self._renew(self.credentials)
        seen = self.credentials
        try:
            return await self._call(make(), creating=creating)
        except ChannelError as exc:
            if not (self.oauth2 and exc.kind == FailureKind.AUTH_FAILED):
                raise
        await self._renew(seen)
        return await self._call(make(), creating=creating)

    async def _renew(self, stale: dict[str, str]) -> None:
        async with self._renewing:
            if self.credentials.get("refresh_token") != stale.get("refresh_token"):
                return  # renewed while this call waited for the lock
            if self.store is None:
                renewed = {**self.credentials, **await self._fetch_tokens(self.credentials)}
            else:
                renewed = await self.store.renew(dict(self.credentials), self._fetch_tokens)
            self.credentials = renewed
            self.client.bearer_token = renewed["access_token"]

    async def _fetch_tokens(self, stored: dict[str, str]) -> dict[str, str]:
        """X's token endpoint: a new access token and a new refresh token (the old one spent)."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": stored["refresh_token"],
            "client_id": stored["client_id"],
        }
        secret = stored.get("client_secret")
        headers = {}
        if secret:  # a confidential client says who it is with HTTP Basic (RFC 6749 2.3.1)
            headers[hdrs.AUTHORIZATION] = aiohttp.encode_basic_auth(
                quote(stored["client_id"], safe=""), quote(secret, safe="")
            )
        async with self.timed("renew"):
            try:
                async with self.http.request(
                    "POST", X_API_URL + "/2/oauth2/token", data=form, headers=headers
                ) as response:
                    raw = await response.read()
                    status = response.status
                    reset = response.headers.get("x-rate-limit-reset")
            except (*TRANSPORT_ERRORS,) as exc:
                raise transport_error(exc, creating=False) from exc
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if status in (400, 401):
            # The refresh token is spent, revoked or not this app's: someone must authorise
            # the account again.
            reason = body.get("error_description") or body.get("error") or f"HTTP {status}"
            raise ChannelError(FailureKind.AUTH_FAILED, f"X refused to renew the tokens: {reason}")
        if status >= 300:
            raise status_error(status, str(body.get("error", "")), creating=False,
                               retry_at=epoch_time(reset))  # fmt: skip
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise ChannelError(FailureKind.UNAVAILABLE, "X's token answer had no access token")
        tokens = {"access_token": access}
        if isinstance(refresh, str) and refresh:
            tokens["refresh_token"] = refresh
        lifetime = body.get("expires_in")
        if isinstance(lifetime, int) and lifetime > 0:
            tokens["expires_at"] = str(int(self.clock()) + lifetime)
        return tokens

    # ---- tweepy's errors as ours -------------------------------------------------------------

    async def _call(self, call: Any, *, creating: bool = False) -> Any:
        try:
            return await call
        except tweepy.TooManyRequests as exc:
            retry_at = epoch_time(exc.reset_time)
            raise ChannelError(FailureKind.RATE_LIMITED, str(exc), retry_at=retry_at) from exc
        except tweepy.Forbidden as exc:
            if is_duplicate(exc):
                raise ChannelError(FailureKind.DUPLICATE, str(exc)) from exc
            raise ChannelError(FailureKind.REJECTED, str(exc)) from exc
        except tweepy.HTTPException as exc:
            raise status_error(
                exc.response.status, " ".join(exc.api_messages), creating=creating
            ) from exc
        except aiohttp.ClientResponseError as exc:
            # tweepy reads every error body as JSON: a gateway's HTML page lands here.
            reset = exc.headers.get("x-rate-limit-reset") if exc.headers else None
            detail = "not JSON" if isinstance(exc, aiohttp.ContentTypeError) else exc.message
            raise status_error(
                exc.status, detail, creating=creating, retry_at=epoch_time(reset)
            ) from exc
        except (*TRANSPORT_ERRORS, ValueError) as exc:
            raise transport_error(exc, creating=creating) from exc


def is_duplicate(exc: tweepy.HTTPException) -> bool:
    messages = [*exc.api_messages, str(exc)]
    return any(DUPLICATE_MARK in m.lower() for m in messages)


def as_written(tweet: Mapping[str, Any]) -> str:
    """A post's text as its author wrote it: links unwrapped, the picture's link dropped,
    entities unescaped (X returns `&amp;` for `&`)."""
    text = str(tweet.get("text", ""))
    for entry in tweet.get("entities", {}).get("urls", []):
        short = entry.get("url", "")
        if not short:
            continue
        if "media_key" in entry:
            text = text.replace(short, "")
        else:
            text = text.replace(short, entry.get("expanded_url") or short)
    return html.unescape(text)


def replied_to(tweet: Mapping[str, Any]) -> str | None:
    """The id of the post this one answers, or None for a post that starts a thread."""
    for reference in tweet.get("referenced_tweets") or []:
        if reference.get("type") == "replied_to":
            return str(reference.get("id"))
    return None


def status_url(tweet_id: str) -> str:
    return f"https://x.com/i/web/status/{tweet_id}"
