"""Follows and alert settings, for signed-in users and for anonymous devices.

A device registers once (POST /v1/devices) and then sends `Authorization: Device <secret>`;
a signed-in user sends their access token as usual (`Bearer`). Neither credential works in
the other's place: a device secret is not a JWT, and an access token is not a device secret.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from beat import follows
from beat.api import serialise
from beat.api.auth import actor, client_address
from beat.api.inputs import Body, path_str, read_json, reject_unknown_query
from beat.api.keys import CLOCK, SETTINGS
from beat.areas import AREA_ID_MAX, FORCE_ID_MAX
from beat.errors import NotAuthenticated
from beat.models import Subscriber

routes = web.RouteTableDef()

NO_STORE = {"Cache-Control": "no-store"}
DEVICE_SCHEME = "device"


async def subscriber_for_request(
    request: web.Request, *, create: bool = False
) -> Subscriber | None:
    """The follower making the request, from `Authorization: Device ...` or `Bearer ...`.

    A device always has its record; a signed-in user gets one on first need (`create`), so
    None means a signed-in user who has never followed anything. Missing or bad credentials
    raise NotAuthenticated (401).
    """
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    now = request.app[CLOCK]()
    if scheme.lower() == DEVICE_SCHEME:
        return await follows.device_subscriber(credential.strip(), now)
    return await follows.user_subscriber(await actor(request), now, create=create)


async def _subscriber(request: web.Request) -> Subscriber:
    found = await subscriber_for_request(request, create=True)
    assert found is not None
    return found


def _area(request: web.Request) -> tuple[str, str]:
    return (
        path_str(request, "force", max_length=FORCE_ID_MAX),
        path_str(request, "neighbourhood", max_length=AREA_ID_MAX),
    )


def _followed(value: follows.Followed) -> dict[str, Any]:
    return {
        **serialise.area_summary(value.area),
        "retired": value.retired,
        "followed_at": serialise.when(value.followed_at),
    }


def _alert_settings(value: follows.AlertSettings, request: web.Request) -> dict[str, Any]:
    quiet = value.quiet_hours
    key = follows.vapid_key(request.app[SETTINGS])
    return {
        "quiet_hours": (
            {"start": follows.clock_time(quiet.start), "end": follows.clock_time(quiet.end)}
            if quiet
            else None
        ),
        "time_zone": "Europe/London",
        "push_subscribed": value.push_subscribed,
        "vapid_public_key": key.public_key if key else None,
    }


class QuietHoursBody(Body):
    start: str = Field(max_length=5)
    end: str = Field(max_length=5)


class PushKeysBody(Body):
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class PushSubscriptionBody(Body):
    endpoint: str = Field(max_length=follows.ENDPOINT_MAX)
    keys: PushKeysBody
    # What the browser's PushSubscription.toJSON() gives; Beat has no use for it.
    expirationTime: int | float | None = None


class AlertSettingsBody(Body):
    quiet_hours: QuietHoursBody | None = None
    push_subscription: PushSubscriptionBody | None = None


@routes.post("/v1/devices")
async def register_device(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    device = await follows.register_device(
        address=client_address(request),
        settings=request.app[SETTINGS],
        now=request.app[CLOCK](),
    )
    body = {
        "device_secret": device.secret,
        "created_at": serialise.when(device.subscriber.created_at),
    }
    return web.json_response(body, status=201, headers=NO_STORE)


@routes.delete("/v1/devices/me")
async def forget_device(request: web.Request) -> web.Response:
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != DEVICE_SCHEME:
        raise NotAuthenticated("send the device secret: Authorization: Device <secret>")
    device = await follows.device_subscriber(credential.strip(), request.app[CLOCK]())
    await follows.forget(device)
    return web.Response(status=204)


@routes.get("/v1/me/follows")
async def list_follows(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = await follows.list_follows(await subscriber_for_request(request))
    return web.json_response({"items": [_followed(f) for f in found]}, headers=NO_STORE)


@routes.put("/v1/me/follows/{force}/{neighbourhood}")
async def follow(request: web.Request) -> web.Response:
    force_id, code = _area(request)
    followed, created = await follows.follow(
        await _subscriber(request), force_id, code, request.app[CLOCK]()
    )
    return web.json_response(_followed(followed), status=201 if created else 200, headers=NO_STORE)


@routes.delete("/v1/me/follows/{force}/{neighbourhood}")
async def unfollow(request: web.Request) -> web.Response:
    force_id, code = _area(request)
    await follows.unfollow(await subscriber_for_request(request), force_id, code)
    return web.Response(status=204)


@routes.get("/v1/me/alert-settings")
async def get_alert_settings(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = follows.settings_of(await subscriber_for_request(request))
    return web.json_response(_alert_settings(found, request), headers=NO_STORE)


@routes.put("/v1/me/alert-settings")
async def put_alert_settings(request: web.Request) -> web.Response:
    body = await read_json(request, AlertSettingsBody)
    given = body.model_fields_set
    quiet: follows.QuietHours | follows.Keep | None = follows.KEEP
    push: dict[str, Any] | follows.Keep | None = follows.KEEP
    if "quiet_hours" in given:
        hours = body.quiet_hours
        quiet = follows.QuietHours.parse(hours.start, hours.end) if hours else None
    if "push_subscription" in given:
        sub = body.push_subscription
        push = (
            follows.check_push_subscription(
                sub.endpoint,
                sub.keys.p256dh,
                sub.keys.auth,
                allowed_hosts=request.app[SETTINGS].push_service_hosts,
            )
            if sub
            else None
        )
    found = await follows.set_alert_settings(
        await _subscriber(request), quiet_hours=quiet, push_subscription=push
    )
    return web.json_response(_alert_settings(found, request), headers=NO_STORE)
