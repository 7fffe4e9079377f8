"""RFC 9457 problem documents, and the one middleware that turns errors into them."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from beat.api.keys import REQUEST_ID
from beat.errors import (
    BeatError,
    Conflict,
    FieldError,
    Invalid,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    SourceError,
    Throttled,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# status, stable type slug, title
_KINDS: dict[type[BeatError], tuple[int, str, str]] = {
    Invalid: (422, "validation", "The request's values are not acceptable"),
    NotAuthenticated: (401, "unauthenticated", "Sign-in required"),
    NotAllowed: (403, "forbidden", "Not allowed"),
    NotFound: (404, "not-found", "Not found"),
    Conflict: (409, "conflict", "Conflict with the current state"),
    Throttled: (429, "throttled", "Too many attempts"),
    SourceError: (502, "upstream", "An outside data source failed"),
}

_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "body-too-large",
    415: "unsupported-media-type",
}


def problem_type(slug: str) -> str:
    return f"/problems/{slug}"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    request: web.Request | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.path
        request_id = request.get(REQUEST_ID)
        if request_id:
            body["request_id"] = request_id
    if errors:
        body["errors"] = [{"field": e.field, "reason": e.reason} for e in errors]
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


class BadRequest(BeatError):
    """The request could not be read at all (bad JSON, wrong content type)."""

    def __init__(self, detail: str, *, status: int = 400, slug: str = "bad-request") -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug


def from_error(exc: BeatError, request: web.Request) -> web.Response:
    if isinstance(exc, BadRequest):
        return problem(
            exc.status, exc.slug, "The request could not be read", exc.detail, request=request
        )
    for kind, (status, slug, title) in _KINDS.items():
        if isinstance(exc, kind):
            headers: dict[str, str] = {}
            errors = exc.errors if isinstance(exc, Invalid) else None
            if isinstance(exc, NotAuthenticated):
                headers["WWW-Authenticate"] = 'Bearer realm="beat", error="invalid_token"'
            if isinstance(exc, Throttled):
                headers["Retry-After"] = str(exc.retry_after_seconds)
            return problem(
                status, slug, title, exc.detail, errors=errors, headers=headers, request=request
            )
    log.error("unmapped error", exc_info=exc)
    return problem(
        500, "internal", "Internal error", "Something went wrong on our side.", request=request
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = _request_id(request)
    try:
        response = await handler(request)
    except BeatError as exc:
        response = from_error(exc, request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        slug = _HTTP_SLUGS.get(exc.status, "http-error")
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        response = problem(
            exc.status, slug, exc.reason, detail or exc.reason, headers=headers, request=request
        )
    except Exception:
        log.exception(
            "unhandled error", extra={"path": request.path, "request_id": request[REQUEST_ID]}
        )
        response = problem(
            500, "internal", "Internal error", "Something went wrong on our side.", request=request
        )
    response.headers["X-Request-ID"] = request[REQUEST_ID]
    return response


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-ID", "")
    if 8 <= len(given) <= 64 and all(c.isalnum() or c in "-_" for c in given):
        return given
    return uuid.uuid4().hex
