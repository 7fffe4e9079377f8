from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0003_channels_outbox")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AreaCrimeStat",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "neighbourhood",
                    fields.ForeignKeyField(
                        "models.Neighbourhood",
                        source_field="neighbourhood_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="crime_stats",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("month", fields.CharField(max_length=7)),
                ("category", fields.CharField(max_length=40)),
                ("count", fields.IntField(default=0)),
            ],
            options={
                "table": "area_crime_stat",
                "app": "models",
                "unique_together": (("neighbourhood", "month", "category"),),
                "pk_attr": "id",
                "table_description": "Crimes in one neighbourhood, month and category: kept up to date by imports.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AreaEvent",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "neighbourhood",
                    fields.ForeignKeyField(
                        "models.Neighbourhood",
                        source_field="neighbourhood_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("title", fields.CharField(max_length=300)),
                ("kind", fields.CharField(default="", max_length=60)),
                ("description", fields.TextField(default="", unique=False)),
                ("address", fields.TextField(default="", unique=False)),
                (
                    "starts_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                ("ends_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "contact_details",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("synced_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "area_event",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A meeting or beat surgery a neighbourhood team holds.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CrimeMonth",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "force",
                    fields.ForeignKeyField(
                        "models.Force",
                        source_field="force_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="crime_months",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("month", fields.CharField(max_length=7)),
                ("arrived_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("rows", fields.IntField(default=0)),
            ],
            options={
                "table": "crime_month",
                "app": "models",
                "unique_together": (("force", "month"),),
                "pk_attr": "id",
                "table_description": "A force's month of crime data, and when it first arrived (where the feed shows it).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CrimeSource",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("kind", fields.CharField(max_length=20)),
                (
                    "force",
                    fields.ForeignKeyField(
                        "models.Force",
                        source_field="force_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="crime_sources",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("month", fields.CharField(default="", max_length=7)),
                ("name", fields.CharField(max_length=500)),
                ("sha256", fields.CharField(db_index=True, max_length=64)),
                ("rows", fields.IntField(default=0)),
                ("located", fields.IntField(default=0)),
                ("unlocated", fields.IntField(default=0)),
                ("imported_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "crime_source",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One imported file or API response: what was read, when, and how many rows it held.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Crime",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("row_key", fields.CharField(unique=True, max_length=100)),
                (
                    "force",
                    fields.ForeignKeyField(
                        "models.Force",
                        source_field="force_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="crimes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("month", fields.CharField(max_length=7)),
                ("persistent_id", fields.CharField(default="", db_index=True, max_length=64)),
                ("api_id", fields.BigIntField(null=True)),
                ("category", fields.CharField(max_length=40)),
                ("lat", fields.FloatField(null=True)),
                ("lng", fields.FloatField(null=True)),
                ("location", fields.CharField(default="", max_length=200)),
                ("location_id", fields.BigIntField(null=True)),
                ("location_type", fields.CharField(default="Force", max_length=10)),
                ("lsoa_code", fields.CharField(default="", max_length=12)),
                ("lsoa_name", fields.CharField(default="", max_length=100)),
                ("outcome", fields.CharField(default="", max_length=60)),
                ("outcome_month", fields.CharField(default="", max_length=7)),
                (
                    "neighbourhood",
                    fields.ForeignKeyField(
                        "models.Neighbourhood",
                        source_field="neighbourhood_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="crimes",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "source",
                    fields.ForeignKeyField(
                        "models.CrimeSource",
                        source_field="source_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="crimes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "crime",
                "app": "models",
                "indexes": [
                    Index(fields=["neighbourhood_id", "month"]),
                    Index(fields=["force_id", "month"]),
                ],
                "pk_attr": "id",
                "table_description": "A street-level crime or ASB record, at its anonymised snap point.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CrimeOutcome",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("persistent_id", fields.CharField(db_index=True, max_length=64)),
                ("month", fields.CharField(max_length=7)),
                ("outcome", fields.CharField(max_length=60)),
                (
                    "source",
                    fields.ForeignKeyField(
                        "models.CrimeSource",
                        source_field="source_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="outcomes",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "crime_outcome",
                "app": "models",
                "unique_together": (("persistent_id", "month", "outcome"),),
                "pk_attr": "id",
                "table_description": "One step of a crime's case history, from an outcomes file or the API.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FeedVersion",
            fields=[
                (
                    "neighbourhood",
                    fields.OneToOneField(
                        "models.Neighbourhood",
                        source_field="neighbourhood_id",
                        primary_key=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="feed_version",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("version", fields.BigIntField(default=0)),
                ("changed_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "feed_version",
                "app": "models",
                "pk_attr": "neighbourhood_id",
                "table_description": "Bumped whenever an area's feed changes, so every process's cache and ETag agree.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ForceCrimeStat",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "force",
                    fields.ForeignKeyField(
                        "models.Force",
                        source_field="force_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="crime_stats",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("month", fields.CharField(max_length=7)),
                ("category", fields.CharField(max_length=40)),
                ("count", fields.IntField(default=0)),
            ],
            options={
                "table": "force_crime_stat",
                "app": "models",
                "unique_together": (("force", "month", "category"),),
                "pk_attr": "id",
                "table_description": "Crimes a force published for one month and category, located or not.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Priority",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "neighbourhood",
                    fields.ForeignKeyField(
                        "models.Neighbourhood",
                        source_field="neighbourhood_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="priorities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField(default=0)),
                ("issue", fields.TextField(unique=False)),
                ("issue_date", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("action", fields.TextField(default="", unique=False)),
                (
                    "action_date",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("synced_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "priority",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A neighbourhood team's agreed priority, as police.uk publishes it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Subscriber",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "user",
                    fields.OneToOneField(
                        "models.User",
                        source_field="user_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="subscriber",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("device_secret_hash", fields.CharField(null=True, unique=True, max_length=64)),
                ("quiet_start", fields.IntField(null=True)),
                ("quiet_end", fields.IntField(null=True)),
                (
                    "push_subscription",
                    fields.JSONField(
                        null=True,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("last_seen_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "subscriber",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Someone who follows areas: a signed-in resident, or an anonymous device.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AreaAlert",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "subscriber",
                    fields.ForeignKeyField(
                        "models.Subscriber",
                        source_field="subscriber_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "post",
                    fields.ForeignKeyField(
                        "models.Post",
                        source_field="post_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "neighbourhood",
                    fields.ForeignKeyField(
                        "models.Neighbourhood",
                        source_field="neighbourhood_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("due_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("status", fields.CharField(default="pending", db_index=True, max_length=12)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("attempts", fields.IntField(default=0)),
                ("last_error", fields.CharField(default="", max_length=300)),
            ],
            options={
                "table": "area_alert",
                "app": "models",
                "unique_together": (("subscriber", "post"),),
                "pk_attr": "id",
                "table_description": "A new post in a followed area, for one subscriber: sent once, after quiet hours.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Follow",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "subscriber",
                    fields.ForeignKeyField(
                        "models.Subscriber",
                        source_field="subscriber_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="follows",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "neighbourhood",
                    fields.ForeignKeyField(
                        "models.Neighbourhood",
                        source_field="neighbourhood_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="follows",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "follow",
                "app": "models",
                "unique_together": (("subscriber", "neighbourhood"),),
                "pk_attr": "id",
                "table_description": "A subscriber follows a neighbourhood.",
            },
            bases=["Model"],
        ),
    ]
