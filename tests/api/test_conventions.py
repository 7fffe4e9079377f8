"""Every route: problem documents for bad input, size limits, health and metrics."""

from __future__ import annotations

import pytest

from tests.helpers import create_areas


async def test_malformed_json_is_a_400_problem(client, db):
    response = await client.post(
        "/v1/auth/login", data=b'{"email": "a@b.c", ', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    body = await response.json()
    assert body["type"] == "/problems/bad-request"
    assert body["status"] == 400


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"null", b"42"])
async def test_a_body_that_is_not_an_object_is_refused(client, db, raw):
    response = await client.post(
        "/v1/auth/login", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status == 422


async def test_nan_is_not_json(client, db):
    response = await client.post(
        "/v1/auth/login",
        data=b'{"email": NaN, "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400


async def test_unknown_fields_are_refused_with_their_names(client, db):
    response = await client.post(
        "/v1/auth/login", json={"email": "a@b.co", "password": "x" * 12, "remember_me": True}
    )
    assert response.status == 422
    assert (await response.json())["errors"] == [
        {"field": "/remember_me", "reason": "Extra inputs are not permitted"}
    ]


async def test_wrong_types_are_not_coerced(client, db):
    response = await client.post(
        "/v1/auth/login", json={"email": "a@b.co", "password": 123456789012}
    )
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "/password"


async def test_a_body_that_is_not_json_is_415(client, db):
    response = await client.post("/v1/auth/login", data="email=a&password=b")
    assert response.status == 415


async def test_an_oversize_body_is_413_and_not_read(client, db):
    huge = b'{"email": "' + b"a" * (70 * 1024) + b'"}'
    response = await client.post(
        "/v1/auth/login", data=huge, headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert response.content_type == "application/problem+json"


async def test_unknown_routes_and_methods_are_problems(client, db):
    missing = await client.get("/v1/nothing-here")
    assert missing.status == 404
    assert missing.content_type == "application/problem+json"
    wrong = await client.delete("/v1/forces")
    assert wrong.status == 405
    assert wrong.content_type == "application/problem+json"
    assert "GET" in wrong.headers["Allow"]


async def test_invalid_utf8_is_a_400(client, db):
    response = await client.post(
        "/v1/auth/login",
        data=b'{"email": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 400


async def test_every_response_carries_a_request_id(client, db):
    response = await client.get("/v1/forces", headers={"X-Request-ID": "trace-abc-123"})
    assert response.headers["X-Request-ID"] == "trace-abc-123"
    generated = await client.get("/v1/forces", headers={"X-Request-ID": "bad id with spaces!"})
    assert generated.headers["X-Request-ID"] != "bad id with spaces!"
    assert len(generated.headers["X-Request-ID"]) == 32


async def test_healthz_checks_the_database(client, db):
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "up"}


async def test_metrics_count_requests_by_route_template(client, db, demo_areas):
    await create_areas(demo_areas)
    await client.get("/v1/areas/city-of-london/E05009288")
    await client.get("/v1/areas/city-of-london/E00000000")
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert (
        'beat_http_requests_total{method="GET",route="/v1/areas/{force}/{neighbourhood}",status="200"} 1.0'
        in text
    )
    assert (
        'beat_http_requests_total{method="GET",route="/v1/areas/{force}/{neighbourhood}",status="404"} 1.0'
        in text
    )
