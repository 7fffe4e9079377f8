"""A test client that checks every request it sends and every response it gets against the spec."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads, plain_loads
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).resolve().parents[2] / "mobile_contract" / "openapi.yaml"
PROBLEM_JSON = "application/problem+json"
MAX_SHOWN = 8  # schema errors listed per contract violation


class ContractViolation(AssertionError):
    """A real request or response does not match mobile_contract/openapi.yaml."""


def _config() -> Config:
    """How tests read the contract.

    Schemas that do not say whether other properties are allowed are taken as closed here,
    so a field the service sends but the contract does not describe fails the tests; the
    published contract stays open so that later fields do not break old apps. Problem
    documents are read as JSON and CSV as text, as openapi-core reads text/plain.
    """
    return Config(
        extra_media_type_deserializers={PROBLEM_JSON: json_loads, "text/csv": plain_loads},
        additional_properties_default_policy="forbid",
    )


@cache
def load_spec() -> OpenAPI:
    """The contract, mobile_contract/openapi.yaml, as openapi-core sees it in tests."""
    return OpenAPI.from_file_path(str(SPEC_PATH), config=_config())


def spec_from_dict(data: dict[str, Any]) -> OpenAPI:
    """A variant of the contract, read the same way (to test the checks themselves)."""
    return OpenAPI.from_dict(data, config=_config())


@dataclass(frozen=True)
class WireRequest:
    """A request as it went over the wire, in openapi-core's Request protocol."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters

    @classmethod
    def sent(cls, response: ClientResponse, body: bytes | None) -> WireRequest:
        info = response.request_info
        url = info.real_url
        headers = Headers(list(info.headers.items()))
        return cls(
            host_url=f"{url.scheme}://{url.host}:{url.port}",
            path=url.raw_path,
            method=info.method.lower(),
            body=body,
            content_type=headers.get("Content-Type", "").lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict(list(url.query.items())),
                header=headers,
                cookie=ImmutableMultiDict(),
            ),
        )


@dataclass(frozen=True)
class WireResponse:
    """A response as it came back over the wire, in openapi-core's Response protocol."""

    status_code: int
    headers: Headers
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Reply:
    """What a test sees of a response: status, headers and the body (decoded if JSON)."""

    status: int
    headers: Headers
    content_type: str
    body: bytes
    json: Any = field(default=None)

    @property
    def problem_type(self) -> str | None:
        return self.json.get("type") if self.content_type == PROBLEM_JSON else None


def _short(text: object, limit: int = 300) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + " ..."


def _explain(errors: list[Exception]) -> Iterator[str]:
    """Each error with its causes, down to the schema errors and where they are."""
    for error in errors:
        yield f"- {_short(error, 200)}"
        cause = error.__cause__
        while cause is not None:
            schema_errors = list(getattr(cause, "schema_errors", ()))
            if not schema_errors:
                yield f"    because: {_short(cause)}"
            for schema_error in schema_errors[:MAX_SHOWN]:
                where = "/".join(str(p) for p in getattr(schema_error, "absolute_path", ()))
                yield f"    at /{where}: {_short(getattr(schema_error, 'message', schema_error))}"
            if len(schema_errors) > MAX_SHOWN:
                yield f"    ... and {len(schema_errors) - MAX_SHOWN} more"
            cause = cause.__cause__


def _describe(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


class ContractClient:
    """Wraps a TestClient: each call is sent for real and checked against the contract.

    A request that breaks the contract fails the test unless the test says it does so on
    purpose (`off_contract=True`, for hostile-input tests); then the contract must reject
    it too. The response is always checked, so the service must answer such requests
    with a documented status and shape as well. `json_body` is sent as JSON, `data` as is
    (`json_body=None` sends no body: send a JSON null as `data=b"null"`).
    """

    def __init__(self, client: TestClient, spec: OpenAPI | None = None) -> None:
        self.client = client
        self.spec = spec or load_spec()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        off_contract: bool = False,
    ) -> Reply:
        sent_headers = dict(headers or {})
        body = data
        if json_body is not None:
            assert data is None, "give json_body or data, not both"
            body = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        response = await self.client.request(
            method, path, data=body, params=params, headers=sent_headers
        )
        raw = await response.read()
        sent = WireRequest.sent(response, body)
        self._check_request(sent, off_contract)
        return self._check_response(sent, response, raw)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("PATCH", path, **kwargs)

    def _check_request(self, request: WireRequest, off_contract: bool) -> None:
        try:
            errors = list(self.spec.unmarshal_request(request).errors)
        except RecursionError as exc:  # a body nested too deeply for any JSON parser
            errors = [exc]
        call = _describe(request.method, request.path)
        if errors and not off_contract:
            lines = "\n".join(_explain(errors))
            raise ContractViolation(f"{call}: the request breaks the contract:\n{lines}")
        if off_contract and not errors:
            raise ContractViolation(
                f"{call}: the test says this request breaks the contract, but the contract"
                " accepts it; describe the rule in openapi.yaml or drop off_contract"
            )

    def _check_response(self, request: WireRequest, response: ClientResponse, raw: bytes) -> Reply:
        headers = Headers(list(response.headers.items()))
        content_type = headers.get("Content-Type", "").lower()
        wire = WireResponse(response.status, headers, content_type, raw)
        call = f"{_describe(request.method, request.path)} -> {response.status}"
        errors = list(self.spec.unmarshal_response(request, wire).errors)
        if errors:
            lines = "\n".join(_explain(errors))
            raise ContractViolation(
                f"{call}: the response breaks the contract:\n{lines}\nbody: {raw[:1000]!r}"
            )
        mime = content_type.split(";")[0].strip()
        decoded = json.loads(raw) if mime in ("application/json", PROBLEM_JSON) else None
        if mime == PROBLEM_JSON and decoded.get("status") != response.status:
            # RFC 9457: the status member, when present, matches the HTTP status.
            raise ContractViolation(f"{call}: the problem document says {decoded.get('status')}")
        return Reply(response.status, headers, mime, raw, decoded)
