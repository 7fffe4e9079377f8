"""Who is calling: bearer access tokens checked against keys and the session table."""

from __future__ import annotations

import ipaddress
import uuid

from aiohttp import web

from beat.api.keys import ACTOR, AUTH, SESSION_ID, SETTINGS
from beat.errors import NotAuthenticated
from beat.models import User


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("send an access token: Authorization: Bearer <token>")
    if not token.isascii():  # a JWT is base64url and dots; other bytes would break its decoder
        raise NotAuthenticated("the access token is malformed")
    return token.strip()


async def actor(request: web.Request) -> User:
    """The signed-in user, checked once per request."""
    if ACTOR not in request:
        user, session_id = await request.app[AUTH].authenticate(bearer_token(request))
        request[ACTOR] = user
        request[SESSION_ID] = session_id
    return request[ACTOR]


async def optional_actor(request: web.Request) -> User | None:
    """The signed-in user if the request carries a token (which must then be valid), else None."""
    if "Authorization" not in request.headers:
        return None
    return await actor(request)


async def session_id(request: web.Request) -> uuid.UUID:
    await actor(request)
    return request[SESSION_ID]


def client_address(request: web.Request) -> str:
    """The caller's address; X-Forwarded-For is believed only from configured proxies."""
    remote = request.remote or "unknown"
    proxies = request.app[SETTINGS].trusted_proxies
    if remote in proxies:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        for hop in reversed(hops):
            if hop not in proxies:
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    break
    return remote
