"""The single token per user of rest_framework.authtoken becomes an ApiToken named "迁移的令牌"
(the same key still works: its SHA-256 is stored), and authtoken's table and migration records
are dropped (`manage.py remove_stale_contenttypes` clears its content type). The app is no longer installed, so its table is read with plain SQL, if it exists."""

import hashlib
from datetime import UTC

from django.db import migrations
from django.utils import timezone


def move_authtoken_keys(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("accounts", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        token = ApiToken.objects.create(
            user_id=user_id,
            name="迁移的令牌",
            kind="full",
            prefix=key[:10],
            digest=hashlib.sha256(key.encode("utf-8")).hexdigest(),
        )
        if created is not None and timezone.is_naive(created):  # SQLite keeps UTC, unmarked
            created = timezone.make_aware(created, UTC)
        ApiToken.objects.filter(pk=token.pk).update(created_at=created)
    schema_editor.execute(schema_editor.sql_delete_table % {"table": "authtoken_token"})
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_api_tokens_and_idempotent_requests"),
    ]

    operations = [
        migrations.RunPython(move_authtoken_keys, migrations.RunPython.noop),
    ]
