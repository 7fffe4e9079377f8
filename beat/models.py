"""Tortoise models: the state of Beat lives here, never in a process."""

from __future__ import annotations

import uuid
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    OFFICER = "officer"
    COMMS = "comms"
    FORCE_ADMIN = "force-admin"
    RESIDENT = "resident"


STAFF_ROLES = frozenset({Role.OFFICER, Role.COMMS, Role.FORCE_ADMIN})


class Force(Model):
    """A police force, keyed by its police.uk id (e.g. `city-of-london`)."""

    id = fields.CharField(primary_key=True, max_length=64)
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    url = fields.CharField(max_length=500, default="")
    telephone = fields.CharField(max_length=64, default="")
    engagement_methods: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "force"


class Team(Model):
    """A Safer Neighbourhood Team. Sync makes one per neighbourhood, code = neighbourhood id."""

    id = fields.IntField(primary_key=True)
    force: fields.ForeignKeyRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="teams", on_delete=fields.RESTRICT
    )
    code = fields.CharField(max_length=100)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    force_id: str
    neighbourhoods: fields.ReverseRelation[Neighbourhood]

    class Meta:
        table = "team"
        unique_together = (("force", "code"),)


class Neighbourhood(Model):
    """A policing neighbourhood (area). Its id is only unique within its force."""

    id = fields.IntField(primary_key=True)
    force: fields.ForeignKeyRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="neighbourhoods", on_delete=fields.RESTRICT
    )
    code = fields.CharField(max_length=100)
    name = fields.CharField(max_length=200, db_index=True)
    description = fields.TextField(default="")
    population = fields.IntField(null=True)
    url_force = fields.CharField(max_length=500, default="")
    centre_lat = fields.FloatField(null=True)
    centre_lng = fields.FloatField(null=True)
    # A GeoJSON Polygon or MultiPolygon geometry in WGS84 (lng, lat order).
    boundary: fields.Field[dict[str, object] | None] = fields.JSONField(null=True)
    contact_details: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    locations: fields.Field[list[dict[str, object]]] = fields.JSONField(default=list)
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="neighbourhoods", null=True, on_delete=fields.SET_NULL
    )
    boundary_updated_at = fields.DatetimeField(null=True)
    # Set when police.uk stops listing the neighbourhood; kept for history, hidden from lists.
    retired_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    force_id: str
    team_id: int | None

    class Meta:
        table = "neighbourhood"
        unique_together = (("force", "code"),)


class User(Model):
    """An account: an officer, a comms officer, a force administrator or a resident."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=20)
    force: fields.ForeignKeyNullableRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    display_name = fields.CharField(max_length=120, default="")
    disabled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    force_id: str | None
    team_id: int | None

    class Meta:
        table = "user"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class Session(Model):
    """One signed-in device: a family of rotating refresh tokens. Revoking it ends them all."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=40, default="")
    user_agent = fields.CharField(max_length=300, default="")

    user_id: int

    class Meta:
        table = "session"


class RefreshToken(Model):
    """A refresh token, stored only as a hash, used once, then replaced by its successor."""

    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    session_id: uuid.UUID

    class Meta:
        table = "refresh_token"


class ThrottleCounter(Model):
    """Failed attempts counted per key (an account or an address) in a fixed window."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=300, unique=True)
    window_start = fields.DatetimeField()
    failures = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "throttle_counter"
