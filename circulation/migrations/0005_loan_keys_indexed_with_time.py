# The loan's library, reader and site each lead an index with the checkout time: their own
# single-column indexes only cost every checkout writes. Only those indexes are dropped: the
# foreign key constraints stay as they are (altering the fields would drop and re-check them
# over the whole loan table).

import django.db.models.deletion
from django.db import migrations, models

KEYS = ("library", "patron", "site")


def drop_own_indexes(apps, schema_editor):
    loan = apps.get_model("circulation", "Loan")
    for name in KEYS:
        column = loan._meta.get_field(name).column
        for index in schema_editor._constraint_names(
            loan, [column], index=True, unique=False, primary_key=False
        ):
            schema_editor.execute(schema_editor._delete_index_sql(loan, index))


def restore_own_indexes(apps, schema_editor):
    loan = apps.get_model("circulation", "Loan")
    for name in KEYS:
        schema_editor.execute(
            schema_editor._create_index_sql(loan, fields=[loan._meta.get_field(name)])
        )


def _key(to, label):
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="loans",
        to=to,
        verbose_name=label,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("circulation", "0004_loan_patron_checked_out_at"),
        ("collections_app", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="loan", name=name, field=_key(to, label))
                for name, to, label in (
                    ("library", "collections_app.library", "图书馆"),
                    ("patron", "circulation.patron", "读者"),
                    ("site", "collections_app.site", "借出站点"),
                )
            ],
            database_operations=[migrations.RunPython(drop_own_indexes, restore_own_indexes)],
        ),
    ]
