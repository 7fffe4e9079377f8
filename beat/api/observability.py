"""Request metrics (Prometheus), structured access log lines, /healthz and /metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from beat import db
from beat.api.keys import DB, METRICS, REQUEST_ID

log = logging.getLogger("beat.access")

REQUESTS = "beat_http_requests_total"
DURATION = "beat_http_request_duration_seconds"


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            REQUESTS, "HTTP requests answered", ["method", "route", "status"], registry=registry
        )
        self.duration = Histogram(
            DURATION, "Time to answer HTTP requests", ["method", "route"], registry=registry
        )


HTTP_METRICS = web.AppKey("http_metrics", HttpMetrics)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route_label(request: web.Request) -> str:
    info = request.match_info
    route = info.route if info is not None else None
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = _route_label(request)
        metrics = request.app[HTTP_METRICS]
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.duration.labels(request.method, route).observe(elapsed)
        log.info(
            "request",
            extra={
                "method": request.method,
                "route": route,
                "status": status,
                "ms": round(elapsed * 1000, 2),
                "request_id": request.get(REQUEST_ID),
            },
        )


async def healthz(request: web.Request) -> web.Response:
    try:
        await db.ping(request.app[DB])
    except Exception as exc:  # any failure means unhealthy; say which, not why in detail
        log.warning("health check failed", exc_info=exc)
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "database": "up"})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS])
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
