"""The public catalogue's search text in a column of its own, on PostgreSQL only (SQLite, for the
demo, scans the title's own columns).

Migration 0008_title_catalogue_search_indexes of collections_app put the trigram index on an
expression: title, pinyin, initials, author and publisher joined, each non-ASCII character written
three times (红楼梦 → 红红红楼楼楼梦梦梦) so that a two-character Chinese word is a trigram. Every
candidate row the index found was then checked again by working the expression out anew (about
45 µs a row, a third of a second for a common word), and PostgreSQL, with no statistics of the
expression, guessed one match for thousands and planned the facets accordingly. The same text is
now kept in the column `catalogue_text`, written by a trigger whenever a title is inserted or one
of those columns changes (the import, the admin, COPY, a bulk update alike), and the trigram index
is on that column: the re-check is a plain ILIKE and ANALYZE gathers real statistics.

A trigger rather than a generated column: PostgreSQL refuses to change the type of a column a
generated column reads, which would make a later migration of Title's columns fail.
"""

from django.db import migrations

# The text readers.search matches (readers.search.tripled writes a query the same way).
CATALOGUE_TEXT = (
    "regexp_replace(NEW.title || '|' || NEW.title_pinyin || '|' || NEW.title_initials || '|' "
    "|| NEW.responsibility || '|' || NEW.publisher, '([^\\x01-\\x7f])', '\\1\\1\\1', 'g')"
)
OLD_INDEX_EXPRESSION = (
    "regexp_replace(title || '|' || title_pinyin || '|' || title_initials || '|' "
    "|| responsibility || '|' || publisher, '([^\\x01-\\x7f])', '\\1\\1\\1', 'g')"
)
WATCHED = "title, title_pinyin, title_initials, responsibility, publisher"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE collections_app_title ADD COLUMN IF NOT EXISTS catalogue_text text "
    "NOT NULL DEFAULT ''",
    f"""CREATE OR REPLACE FUNCTION collections_title_catalogue_text() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.catalogue_text := {CATALOGUE_TEXT};
            RETURN NEW;
        END $$""",
    "DROP TRIGGER IF EXISTS collections_title_catalogue_text ON collections_app_title",
    "CREATE TRIGGER collections_title_catalogue_text BEFORE INSERT OR UPDATE OF "
    f"{WATCHED} ON collections_app_title FOR EACH ROW "
    "EXECUTE FUNCTION collections_title_catalogue_text()",
    # Fire the trigger once for the titles already there.
    "UPDATE collections_app_title SET title = title",
    "CREATE INDEX IF NOT EXISTS collections_title_catalogue_text_trgm ON collections_app_title "
    "USING gin (catalogue_text gin_trgm_ops)",
    "DROP INDEX IF EXISTS collections_title_catalogue_trgm",
    "ANALYZE collections_app_title",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS collections_title_catalogue_trgm ON collections_app_title "
    f"USING gin (({OLD_INDEX_EXPRESSION}) gin_trgm_ops)",
    "DROP TRIGGER IF EXISTS collections_title_catalogue_text ON collections_app_title",
    "DROP FUNCTION IF EXISTS collections_title_catalogue_text()",
    "ALTER TABLE collections_app_title DROP COLUMN IF EXISTS catalogue_text",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0008_title_catalogue_search_indexes"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
