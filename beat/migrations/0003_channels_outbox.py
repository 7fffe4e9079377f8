from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_posts_moderation_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChannelAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('force', fields.ForeignKeyField('models.Force', source_field='force_id', db_constraint=True, to_field='id', related_name='channel_accounts', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=20)),
                ('name', fields.CharField(max_length=120)),
                ('handle', fields.CharField(default='', max_length=200)),
                ('credentials', fields.TextField(unique=False)),
                ('force_wide', fields.BooleanField(default=False)),
                ('healthy', fields.BooleanField(default=True)),
                ('last_checked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'channel_account', 'app': 'models', 'unique_together': (('force', 'name'),), 'pk_attr': 'id', 'table_description': "A force's account on a social platform, and the areas whose posts it carries."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChannelArea',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.ChannelAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='areas', on_delete=OnDelete.CASCADE)),
                ('neighbourhood', fields.ForeignKeyField('models.Neighbourhood', source_field='neighbourhood_id', db_constraint=True, to_field='id', related_name='channel_areas', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'channel_area', 'app': 'models', 'unique_together': (('account', 'neighbourhood'),), 'pk_attr': 'id', 'table_description': 'A neighbourhood whose posts a channel account carries.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.RESTRICT)),
                ('account', fields.ForeignKeyField('models.ChannelAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.RESTRICT)),
                ('action', fields.CharField(max_length=10)),
                ('post_version', fields.IntField(default=1)),
                ('status', fields.CharField(db_index=True, max_length=12)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('lease_owner', fields.CharField(default='', max_length=100)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('parts', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('next_part', fields.IntField(default=0)),
                ('remote_id', fields.CharField(default='', max_length=300)),
                ('url', fields.CharField(default='', max_length=500)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery', 'app': 'models', 'unique_together': (('post', 'account', 'action', 'post_version'),), 'pk_attr': 'id', 'table_description': 'One post to one channel account (or its removal): the outbox row workers claim.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliveryAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('delivery', fields.ForeignKeyField('models.Delivery', source_field='delivery_id', db_constraint=True, to_field='id', related_name='attempt_log', on_delete=OnDelete.CASCADE)),
                ('account_id', fields.IntField(db_index=True)),
                ('part', fields.IntField(default=0)),
                ('worker', fields.CharField(max_length=100)),
                ('started_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(max_length=20)),
                ('remote_id', fields.CharField(default='', max_length=300)),
                ('error', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'delivery_attempt', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One try at one part of a delivery: when, by whom, and what came of it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobLease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=60)),
                ('owner', fields.CharField(max_length=100)),
                ('until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_lease', 'app': 'models', 'pk_attr': 'name', 'table_description': 'Which process leads the scheduled jobs (where advisory locks are not available).'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='ForceSettings',
            options={'table': 'force_settings', 'app': 'models', 'pk_attr': 'force_id', 'table_description': 'How a force runs its posts: moderation policy, Welsh, delays, reasons, retention.'},
        ),
    ]
