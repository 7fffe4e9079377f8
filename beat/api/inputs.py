"""Reading hostile input: JSON bodies into strict models, query parameters into values."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from beat.api.problems import BadRequest
from beat.errors import FieldError, Invalid

# Valid in JSON and URLs, but PostgreSQL cannot store or even compare text holding one.
NUL = "\x00"
NUL_REASON = "must not contain NUL characters"


class Body(BaseModel):
    """Base for request bodies: unknown fields are errors and types are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=10_000)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and NUL in item for item in items):
            raise ValueError(NUL_REASON)
        return value


B = TypeVar("B", bound=Body)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _pointer(loc: tuple[int | str, ...]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


async def read_json(request: web.Request, model: type[B]) -> B:
    """The request body as `model`: 415 unless JSON, 400 unless parseable, 422 unless valid."""
    if request.content_type != "application/json":
        raise BadRequest(
            "send the body as application/json", status=415, slug="unsupported-media-type"
        )
    raw = await request.read()  # bounded by the app's client_max_size (413 above it)
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # a few KiB of "[[[[..." exhaust the parser's stack
        raise BadRequest("the body is not valid JSON: it is nested too deeply") from exc
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object", [FieldError("/", "must be an object")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(_pointer(e["loc"]), e["msg"]) for e in exc.errors()]
        raise Invalid("the body has invalid fields", errors) from exc


def query_str(
    request: web.Request, name: str, *, required: bool = True, max_length: int = 200
) -> str | None:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise Invalid.field(name, "give this parameter once")
    if not values:
        if required:
            raise Invalid.field(name, "is required")
        return None
    value = values[0]
    if len(value) > max_length:
        raise Invalid.field(name, f"must be at most {max_length} characters")
    if NUL in value:
        raise Invalid.field(name, NUL_REASON)
    return value


_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def query_float(request: web.Request, name: str) -> float:
    raw = query_str(request, name, max_length=40)
    assert raw is not None
    # A plain decimal, as a phone's GPS gives it: no "1_0", "nan", "inf" or hex.
    if not _DECIMAL.fullmatch(raw):
        raise Invalid.field(name, "must be a decimal number, e.g. 51.5155")
    return float(raw)


def header_text(request: web.Request, name: str) -> str:
    """A header as storable text: bytes that are not UTF-8 become U+FFFD, not surrogates."""
    raw = request.headers.get(name, "")
    # aiohttp keeps undecodable header bytes as lone surrogates, which no database stores.
    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def path_str(request: web.Request, name: str, *, max_length: int) -> str:
    """A path segment naming something stored; no stored name is longer or holds a NUL.

    Such names are never looked up: the ORM refuses over-long values with an error of its own.
    """
    raw = request.match_info[name]
    if len(raw) > max_length or NUL in raw:
        raise web.HTTPNotFound(text=f"no such {name.replace('_', ' ')}")
    return raw


MAX_ID = 2**31 - 1  # ids are 32-bit integer columns; PostgreSQL refuses larger values


def path_int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    # isascii: "²" and other Unicode digits pass isdigit() but not int().
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        raise web.HTTPNotFound(text=f"no such {name.replace('_', ' ')}")
    return int(raw)


def reject_unknown_query(request: web.Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        raise Invalid(
            "unknown query parameters",
            [FieldError(name, "is not a parameter of this route") for name in unknown],
        )
