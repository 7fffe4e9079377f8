"""Tortoise models: the state of Beat lives here, never in a process."""

from __future__ import annotations

import uuid
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from beat.post_states import PostStatus


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
    # An area hold sends every post for the area to the desk, e.g. during an operation.
    hold_since = fields.DatetimeField(null=True)
    hold_reason = fields.CharField(max_length=300, default="", db_default="")
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
    # Trusted officers' posts skip the desk when the force's policy allows it.
    publish_unreviewed = fields.BooleanField(default=False, db_default=False)
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


class ModerationPolicy(StrEnum):
    ALL = "pre-moderate-all"  # every post waits for comms
    RISKY = "risky-only"  # only posts a check flags wait
    TRUSTED = "trusted-bypass"  # as risky-only, and trusted officers' flagged posts go too


DEFAULT_REJECT_REASONS = [
    "inaccurate",
    "identifies-a-person",
    "legal-risk",
    "tone",
    "duplicate",
    "not-for-social-media",
    "other",
]


class ForceSettings(Model):
    """How a force runs its posts: moderation policy, Welsh, delays, reasons, retention."""

    force: fields.OneToOneRelation[Force] = fields.OneToOneField(
        "models.Force", related_name="settings", primary_key=True, on_delete=fields.CASCADE
    )
    moderation_policy = fields.CharEnumField(
        ModerationPolicy, max_length=30, default=ModerationPolicy.RISKY
    )
    require_welsh = fields.BooleanField(default=False)
    # Officers may tag any live area of their force, not only their team's.
    officers_post_force_wide = fields.BooleanField(default=False)
    # Minutes to wait before publishing, by post kind, e.g. {"patrol": 60}.
    publication_delays: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    reject_reasons: fields.Field[list[str]] = fields.JSONField(default=list)
    # Minutes past its publication time before an approved, unpublished post expires.
    approval_grace_minutes = fields.IntField(default=15)
    # Days after which withdrawn and rejected posts lose their content (null: kept).
    retention_days = fields.IntField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    force_id: str

    class Meta:
        table = "force_settings"


class Template(Model):
    """A quick post with {placeholders}, kept by the force's administrators."""

    id = fields.IntField(primary_key=True)
    force: fields.ForeignKeyRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="templates", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=120)
    body = fields.TextField()
    kind = fields.CharField(max_length=30, default="update")
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    force_id: str

    class Meta:
        table = "template"


class Post(Model):
    """An officer's update about one or more neighbourhoods, on its way to the public."""

    id = fields.UUIDField(primary_key=True)
    force: fields.ForeignKeyRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="posts", on_delete=fields.RESTRICT
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="posts", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=30, default="update")
    status = fields.CharEnumField(PostStatus, max_length=20, db_index=True)
    version = fields.IntField(default=1)
    text = fields.TextField()
    text_cy: fields.Field[str | None] = fields.TextField(null=True)  # type: ignore[assignment]
    # A street-level label only if the officer typed one; never derived from GPS.
    location_label = fields.CharField(max_length=120, default="")
    # The phone's GPS: used to suggest areas, then kept for the audit record only.
    gps_lat = fields.FloatField(null=True)
    gps_lng = fields.FloatField(null=True)
    template: fields.ForeignKeyNullableRelation[Template] = fields.ForeignKeyField(
        "models.Template", related_name="posts", null=True, on_delete=fields.SET_NULL
    )
    risks: fields.Field[list[dict[str, object]]] = fields.JSONField(default=list)
    publish_at = fields.DatetimeField(null=True)  # asked for by the officer
    not_before = fields.DatetimeField(null=True)  # publish_at or the force's delay, later of
    submitted_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    published_at = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    assigned_to: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assigned_posts", null=True, on_delete=fields.SET_NULL
    )
    # The last decision, as the author sees it.
    decision = fields.CharField(max_length=30, default="")
    decision_reason = fields.CharField(max_length=60, default="")
    decision_note = fields.TextField(default="")
    # The app's Idempotency-Key and a digest of the request it came with.
    idempotency_key = fields.UUIDField(null=True)
    request_digest = fields.CharField(max_length=64, default="")
    purged_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    force_id: str
    author_id: int
    template_id: int | None
    assigned_to_id: int | None

    class Meta:
        table = "post"
        unique_together = (("author", "idempotency_key"),)


class PostArea(Model):
    """A neighbourhood a post is about."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="post_areas", on_delete=fields.CASCADE
    )
    neighbourhood: fields.ForeignKeyRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="post_areas", on_delete=fields.RESTRICT
    )
    # The post's publication time while it is public, else null: kept here so an area's feed
    # reads its newest posts straight off one index, however busy the other areas are.
    published_at = fields.DatetimeField(null=True)

    post_id: uuid.UUID
    neighbourhood_id: int

    class Meta:
        table = "post_area"
        unique_together = (("post", "neighbourhood"),)
        indexes = (("neighbourhood_id", "published_at", "post_id"),)


class Photo(Model):
    """An uploaded photo, re-encoded without metadata, stored under the data dir by hash."""

    id = fields.UUIDField(primary_key=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="photos", on_delete=fields.RESTRICT
    )
    post: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="photos", null=True, on_delete=fields.SET_NULL
    )
    position = fields.IntField(default=0)
    sha256 = fields.CharField(max_length=64, db_index=True)
    content_type = fields.CharField(max_length=40)
    width = fields.IntField()
    height = fields.IntField()
    # Sizes stored, e.g. {"large": "<sha>.jpg", "thumb": "<sha>-thumb.jpg"}.
    files: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    alt_text = fields.TextField(default="")
    created_at = fields.DatetimeField()

    owner_id: int
    post_id: uuid.UUID | None

    class Meta:
        table = "photo"


class PostRevision(Model):
    """An earlier text of a post, kept when it is edited, with who changed it and the diff."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="revisions", on_delete=fields.CASCADE
    )
    version = fields.IntField()
    text = fields.TextField()
    text_cy: fields.Field[str | None] = fields.TextField(null=True)  # type: ignore[assignment]
    edited_by_id = fields.IntField(null=True)
    kind = fields.CharField(max_length=30)  # edit | moderator-edit | correction
    diff = fields.TextField(default="")
    created_at = fields.DatetimeField()

    post_id: uuid.UUID

    class Meta:
        table = "post_revision"
        unique_together = (("post", "version"),)


class AuditEntry(Model):
    """One state change or decision. Append-only: the application never changes or deletes one.

    No foreign keys, so purging a post's content or an account never touches the record.
    """

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    force_id = fields.CharField(max_length=64, db_index=True)
    actor_id = fields.IntField(null=True)
    actor_role = fields.CharField(max_length=20, default="system")
    post_id = fields.UUIDField(null=True, db_index=True)
    action = fields.CharField(max_length=40)
    from_status = fields.CharField(max_length=20, default="")
    to_status = fields.CharField(max_length=20, default="")
    reason = fields.CharField(max_length=300, default="")
    details: fields.Field[dict[str, object]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_entry"


class Notification(Model):
    """Something a user should know, e.g. a decision on their post."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=40)
    post_id = fields.UUIDField(null=True)
    message = fields.TextField()
    details: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(db_index=True)
    read_at = fields.DatetimeField(null=True)

    user_id: int

    class Meta:
        table = "notification"


class ChannelAccount(Model):
    """A force's account on a social platform, and the areas whose posts it carries."""

    id = fields.IntField(primary_key=True)
    force: fields.ForeignKeyRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="channel_accounts", on_delete=fields.RESTRICT
    )
    kind = fields.CharField(max_length=20)  # beat.channels.ChannelKind
    name = fields.CharField(max_length=120)
    handle = fields.CharField(max_length=200, default="")
    # Fernet token of the credentials JSON; the key lives in the data dir, never here.
    credentials = fields.TextField()
    # Carries posts for every area of the force, not only those linked in ChannelArea.
    force_wide = fields.BooleanField(default=False)
    healthy = fields.BooleanField(default=True)
    last_checked_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    force_id: str

    class Meta:
        table = "channel_account"
        unique_together = (("force", "name"),)


class ChannelArea(Model):
    """A neighbourhood whose posts a channel account carries."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[ChannelAccount] = fields.ForeignKeyField(
        "models.ChannelAccount", related_name="areas", on_delete=fields.CASCADE
    )
    neighbourhood: fields.ForeignKeyRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="channel_areas", on_delete=fields.CASCADE
    )

    account_id: int
    neighbourhood_id: int

    class Meta:
        table = "channel_area"
        unique_together = (("account", "neighbourhood"),)


class Delivery(Model):
    """One post to one channel account (or its removal): the outbox row workers claim."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="deliveries", on_delete=fields.RESTRICT
    )
    account: fields.ForeignKeyRelation[ChannelAccount] = fields.ForeignKeyField(
        "models.ChannelAccount", related_name="deliveries", on_delete=fields.RESTRICT
    )
    action = fields.CharField(max_length=10)  # publish | delete
    # The post's version it carries: a correction is a new delivery, the old copy deleted.
    post_version = fields.IntField(default=1)
    status = fields.CharField(max_length=12, db_index=True)
    due_at = fields.DatetimeField(db_index=True)
    attempts = fields.IntField(default=0)
    lease_owner = fields.CharField(max_length=100, default="")
    lease_until = fields.DatetimeField(null=True)
    # The rendered thread and, part by part, where each went: a retry resumes, not restarts.
    parts: fields.Field[list[dict[str, object]]] = fields.JSONField(default=list)
    next_part = fields.IntField(default=0)
    remote_id = fields.CharField(max_length=300, default="")
    url = fields.CharField(max_length=500, default="")
    last_error = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)
    sent_at = fields.DatetimeField(null=True)

    post_id: uuid.UUID
    account_id: int

    class Meta:
        table = "delivery"
        unique_together = (("post", "account", "action", "post_version"),)


class DeliveryAttempt(Model):
    """One try at one part of a delivery: when, by whom, and what came of it."""

    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[Delivery] = fields.ForeignKeyField(
        "models.Delivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    account_id = fields.IntField(db_index=True)
    part = fields.IntField(default=0)
    worker = fields.CharField(max_length=100)
    started_at = fields.DatetimeField(db_index=True)
    finished_at = fields.DatetimeField(null=True)
    outcome = fields.CharField(max_length=20)  # sent | rate-limited | ... | crashed
    remote_id = fields.CharField(max_length=300, default="")
    error = fields.CharField(max_length=500, default="")

    delivery_id: int

    class Meta:
        table = "delivery_attempt"


class JobLease(Model):
    """Which process leads the scheduled jobs (where advisory locks are not available)."""

    name = fields.CharField(primary_key=True, max_length=60)
    owner = fields.CharField(max_length=100)
    until = fields.DatetimeField()

    class Meta:
        table = "job_lease"


# --- Crime data (police.uk) and the area feed -------------------------------------------------


class CrimeSource(Model):
    """One imported file or API response: what was read, when, and how many rows it held."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=20)  # street | outcomes | api | stop-and-search
    force: fields.ForeignKeyNullableRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="crime_sources", null=True, on_delete=fields.SET_NULL
    )
    month = fields.CharField(max_length=7, default="")  # YYYY-MM when the file holds one month
    name = fields.CharField(max_length=500)  # file name or URL, for people
    sha256 = fields.CharField(max_length=64, db_index=True)
    rows = fields.IntField(default=0)
    located = fields.IntField(default=0)
    unlocated = fields.IntField(default=0)
    imported_at = fields.DatetimeField()

    force_id: str | None

    class Meta:
        table = "crime_source"


class Crime(Model):
    """A street-level crime or ASB record, at its anonymised snap point."""

    id = fields.BigIntField(primary_key=True)
    # The natural key: persistent id, else the API id, else the row's place in its month's file.
    row_key = fields.CharField(max_length=100, unique=True)
    force: fields.ForeignKeyNullableRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="crimes", null=True, on_delete=fields.RESTRICT
    )
    month = fields.CharField(max_length=7)
    persistent_id = fields.CharField(max_length=64, default="", db_index=True)
    api_id = fields.BigIntField(null=True)
    category = fields.CharField(max_length=40)  # police.uk slug
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    location = fields.CharField(max_length=200, default="")  # "On or near ..."
    location_id = fields.BigIntField(null=True)  # the API's snap-point id
    location_type = fields.CharField(max_length=10, default="Force")  # Force | BTP
    lsoa_code = fields.CharField(max_length=12, default="")
    lsoa_name = fields.CharField(max_length=100, default="")
    outcome = fields.CharField(max_length=60, default="")  # outcome code, "" for ASB
    outcome_month = fields.CharField(max_length=7, default="")
    neighbourhood: fields.ForeignKeyNullableRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="crimes", null=True, on_delete=fields.SET_NULL
    )
    source: fields.ForeignKeyRelation[CrimeSource] = fields.ForeignKeyField(
        "models.CrimeSource", related_name="crimes", on_delete=fields.RESTRICT
    )

    force_id: str | None
    neighbourhood_id: int | None
    source_id: int

    class Meta:
        table = "crime"
        indexes = (("neighbourhood_id", "month"), ("force_id", "month"))


class CrimeOutcome(Model):
    """One step of a crime's case history, from an outcomes file or the API."""

    id = fields.BigIntField(primary_key=True)
    persistent_id = fields.CharField(max_length=64, db_index=True)
    month = fields.CharField(max_length=7)
    outcome = fields.CharField(max_length=60)  # outcome code
    source: fields.ForeignKeyRelation[CrimeSource] = fields.ForeignKeyField(
        "models.CrimeSource", related_name="outcomes", on_delete=fields.RESTRICT
    )

    source_id: int

    class Meta:
        table = "crime_outcome"
        unique_together = (("persistent_id", "month", "outcome"),)


class AreaCrimeStat(Model):
    """Crimes in one neighbourhood, month and category: kept up to date by imports."""

    id = fields.IntField(primary_key=True)
    neighbourhood: fields.ForeignKeyRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="crime_stats", on_delete=fields.CASCADE
    )
    month = fields.CharField(max_length=7)
    category = fields.CharField(max_length=40)
    count = fields.IntField(default=0)

    neighbourhood_id: int

    class Meta:
        table = "area_crime_stat"
        unique_together = (("neighbourhood", "month", "category"),)


class ForceCrimeStat(Model):
    """Crimes a force published for one month and category, located or not."""

    id = fields.IntField(primary_key=True)
    force: fields.ForeignKeyRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="crime_stats", on_delete=fields.CASCADE
    )
    month = fields.CharField(max_length=7)
    category = fields.CharField(max_length=40)
    count = fields.IntField(default=0)

    force_id: str

    class Meta:
        table = "force_crime_stat"
        unique_together = (("force", "month", "category"),)


class CrimeMonth(Model):
    """A force's month of crime data, and when it first arrived (where the feed shows it)."""

    id = fields.IntField(primary_key=True)
    force: fields.ForeignKeyRelation[Force] = fields.ForeignKeyField(
        "models.Force", related_name="crime_months", on_delete=fields.CASCADE
    )
    month = fields.CharField(max_length=7)
    arrived_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    rows = fields.IntField(default=0)

    force_id: str

    class Meta:
        table = "crime_month"
        unique_together = (("force", "month"),)


class Priority(Model):
    """A neighbourhood team's agreed priority, as police.uk publishes it."""

    id = fields.IntField(primary_key=True)
    neighbourhood: fields.ForeignKeyRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="priorities", on_delete=fields.CASCADE
    )
    position = fields.IntField(default=0)
    issue = fields.TextField()  # plain text, HTML removed
    issue_date = fields.DatetimeField(null=True)
    action = fields.TextField(default="")
    action_date = fields.DatetimeField(null=True)
    synced_at = fields.DatetimeField()

    neighbourhood_id: int

    class Meta:
        table = "priority"


class AreaEvent(Model):
    """A meeting or beat surgery a neighbourhood team holds."""

    id = fields.IntField(primary_key=True)
    neighbourhood: fields.ForeignKeyRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="events", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=300)
    kind = fields.CharField(max_length=60, default="")
    description = fields.TextField(default="")  # plain text, HTML removed
    address = fields.TextField(default="")
    starts_at = fields.DatetimeField(null=True, db_index=True)  # UTC
    ends_at = fields.DatetimeField(null=True)
    contact_details: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    synced_at = fields.DatetimeField()

    neighbourhood_id: int

    class Meta:
        table = "area_event"


class Subscriber(Model):
    """Someone who follows areas: a signed-in resident, or an anonymous device."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneNullableRelation[User] = fields.OneToOneField(
        "models.User", related_name="subscriber", null=True, on_delete=fields.CASCADE
    )
    # SHA-256 of an anonymous device's secret; the device keeps the secret.
    device_secret_hash = fields.CharField(max_length=64, null=True, unique=True)
    # Quiet hours in the resident's local time (Europe/London), minutes after midnight.
    quiet_start = fields.IntField(null=True)
    quiet_end = fields.IntField(null=True)
    push_subscription: fields.Field[dict[str, object] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    user_id: int | None

    class Meta:
        table = "subscriber"


class Follow(Model):
    """A subscriber follows a neighbourhood."""

    id = fields.IntField(primary_key=True)
    subscriber: fields.ForeignKeyRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="follows", on_delete=fields.CASCADE
    )
    neighbourhood: fields.ForeignKeyRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="follows", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()

    subscriber_id: int
    neighbourhood_id: int

    class Meta:
        table = "follow"
        unique_together = (("subscriber", "neighbourhood"),)


class AreaAlert(Model):
    """A new post in a followed area, for one subscriber: sent once, after quiet hours."""

    id = fields.IntField(primary_key=True)
    subscriber: fields.ForeignKeyRelation[Subscriber] = fields.ForeignKeyField(
        "models.Subscriber", related_name="alerts", on_delete=fields.CASCADE
    )
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="alerts", on_delete=fields.CASCADE
    )
    neighbourhood: fields.ForeignKeyRelation[Neighbourhood] = fields.ForeignKeyField(
        "models.Neighbourhood", related_name="alerts", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    due_at = fields.DatetimeField(db_index=True)
    status = fields.CharField(max_length=12, default="pending", db_index=True)
    sent_at = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=300, default="")

    subscriber_id: int
    neighbourhood_id: int

    class Meta:
        table = "area_alert"
        unique_together = (("subscriber", "post"),)


class FeedVersion(Model):
    """Bumped whenever an area's feed changes, so every process's cache and ETag agree."""

    neighbourhood: fields.OneToOneRelation[Neighbourhood] = fields.OneToOneField(
        "models.Neighbourhood",
        related_name="feed_version",
        primary_key=True,
        on_delete=fields.CASCADE,
    )
    version = fields.BigIntField(default=0)
    changed_at = fields.DatetimeField()

    neighbourhood_id: int

    class Meta:
        table = "feed_version"
