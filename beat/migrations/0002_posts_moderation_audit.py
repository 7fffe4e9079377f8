from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from beat.models import ModerationPolicy
from beat.post_states import PostStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('force_id', fields.CharField(db_index=True, max_length=64)),
                ('actor_id', fields.IntField(null=True)),
                ('actor_role', fields.CharField(default='system', max_length=20)),
                ('post_id', fields.UUIDField(null=True, db_index=True)),
                ('action', fields.CharField(max_length=40)),
                ('from_status', fields.CharField(default='', max_length=20)),
                ('to_status', fields.CharField(default='', max_length=20)),
                ('reason', fields.CharField(default='', max_length=300)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'audit_entry', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One state change or decision. Append-only: the application never changes or deletes one.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ForceSettings',
            fields=[
                ('force', fields.OneToOneField('models.Force', source_field='force_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='settings', on_delete=OnDelete.CASCADE)),
                ('moderation_policy', fields.CharEnumField(default=ModerationPolicy.RISKY, description='ALL: pre-moderate-all\nRISKY: risky-only\nTRUSTED: trusted-bypass', enum_type=ModerationPolicy, max_length=30)),
                ('require_welsh', fields.BooleanField(default=False)),
                ('officers_post_force_wide', fields.BooleanField(default=False)),
                ('publication_delays', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reject_reasons', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('approval_grace_minutes', fields.IntField(default=15)),
                ('retention_days', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'force_settings', 'app': 'models', 'pk_attr': 'force_id', 'table_description': 'How a force runs its posts: moderation policy, Welsh, delays, reasons, retention.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=40)),
                ('post_id', fields.UUIDField(null=True)),
                ('message', fields.TextField(unique=False)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Something a user should know, e.g. a decision on their post.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Template',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('force', fields.ForeignKeyField('models.Force', source_field='force_id', db_constraint=True, to_field='id', related_name='templates', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=120)),
                ('body', fields.TextField(unique=False)),
                ('kind', fields.CharField(default='update', max_length=30)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'template', 'app': 'models', 'pk_attr': 'id', 'table_description': "A quick post with {placeholders}, kept by the force's administrators."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Post',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('force', fields.ForeignKeyField('models.Force', source_field='force_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.RESTRICT)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(default='update', max_length=30)),
                ('status', fields.CharEnumField(db_index=True, description='DRAFT: draft\nSUBMITTED: submitted\nPENDING_REVIEW: pending-review\nAPPROVED: approved\nSCHEDULED: scheduled\nPUBLISHED: published\nWITHDRAWN: withdrawn\nREJECTED: rejected\nEXPIRED: expired', enum_type=PostStatus, max_length=20)),
                ('version', fields.IntField(default=1)),
                ('text', fields.TextField(unique=False)),
                ('text_cy', fields.TextField(null=True, unique=False)),
                ('location_label', fields.CharField(default='', max_length=120)),
                ('gps_lat', fields.FloatField(null=True)),
                ('gps_lng', fields.FloatField(null=True)),
                ('template', fields.ForeignKeyField('models.Template', source_field='template_id', null=True, db_constraint=True, to_field='id', related_name='posts', on_delete=OnDelete.SET_NULL)),
                ('risks', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('publish_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('not_before', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('assigned_to', fields.ForeignKeyField('models.User', source_field='assigned_to_id', null=True, db_constraint=True, to_field='id', related_name='assigned_posts', on_delete=OnDelete.SET_NULL)),
                ('decision', fields.CharField(default='', max_length=30)),
                ('decision_reason', fields.CharField(default='', max_length=60)),
                ('decision_note', fields.TextField(default='', unique=False)),
                ('idempotency_key', fields.UUIDField(null=True)),
                ('request_digest', fields.CharField(default='', max_length=64)),
                ('purged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'post', 'app': 'models', 'unique_together': (('author', 'idempotency_key'),), 'pk_attr': 'id', 'table_description': "An officer's update about one or more neighbourhoods, on its way to the public."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Photo',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.RESTRICT)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', null=True, db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.SET_NULL)),
                ('position', fields.IntField(default=0)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('content_type', fields.CharField(max_length=40)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('files', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('alt_text', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'photo', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An uploaded photo, re-encoded without metadata, stored under the data dir by hash.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PostArea',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='post_areas', on_delete=OnDelete.CASCADE)),
                ('neighbourhood', fields.ForeignKeyField('models.Neighbourhood', source_field='neighbourhood_id', db_constraint=True, to_field='id', related_name='post_areas', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'post_area', 'app': 'models', 'unique_together': (('post', 'neighbourhood'),), 'pk_attr': 'id', 'table_description': 'A neighbourhood a post is about.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PostRevision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('text', fields.TextField(unique=False)),
                ('text_cy', fields.TextField(null=True, unique=False)),
                ('edited_by_id', fields.IntField(null=True)),
                ('kind', fields.CharField(max_length=30)),
                ('diff', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'post_revision', 'app': 'models', 'unique_together': (('post', 'version'),), 'pk_attr': 'id', 'table_description': 'An earlier text of a post, kept when it is edited, with who changed it and the diff.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Neighbourhood',
            name='hold_reason',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Neighbourhood',
            name='hold_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='publish_unreviewed',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
