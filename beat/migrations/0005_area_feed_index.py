from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_crime_data_feed')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='FeedVersion',
            options={'table': 'feed_version', 'app': 'models', 'pk_attr': 'neighbourhood_id', 'table_description': "Bumped whenever an area's feed changes, so every process's cache and ETag agree."},
        ),
        ops.AddField(
            model_name='PostArea',
            name='published_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='PostArea',
            index=Index(fields=['neighbourhood_id', 'published_at', 'post_id']),
        ),
        # Posts already public carry their publication time onto their areas.
        ops.RunSQL(
            "UPDATE post_area SET published_at = (SELECT post.published_at FROM post"
            " WHERE post.id = post_area.post_id AND post.status = 'published')",
            reverse_sql="",
        ),
    ]
