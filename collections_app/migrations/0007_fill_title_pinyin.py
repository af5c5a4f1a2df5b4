from django.db import migrations

from collections_app.title_keys import fill_title_search_keys


def fill_title_pinyin(apps, schema_editor):
    Title = apps.get_model("collections_app", "Title")
    fill_title_search_keys(Title.objects.all())


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0006_title_pinyin"),
    ]

    operations = [
        migrations.RunPython(fill_title_pinyin, migrations.RunPython.noop),
    ]
