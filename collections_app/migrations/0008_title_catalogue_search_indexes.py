"""Indexes of the public catalogue's search, on PostgreSQL only (SQLite, for the demo, scans).

pg_trgm indexes three-character pieces of text, so a search for any part of a title is an index
lookup. Most Chinese searches are two characters (红楼, 三国), too short for a trigram: the index
is therefore built over the titles with each non-ASCII character written three times
(红楼梦 → 红红红楼楼楼梦梦梦), where the two characters 红楼 become the trigram 红红楼 and a single
character is a trigram of its own. The search (readers/search.py) writes its query the same way
and uses the very same expression, which is what lets the planner pick this index; pinyin and
other Latin text keep their ordinary trigrams.
"""

from django.db import migrations

# Keep in step with readers.search.SEARCH_EXPRESSION: the planner matches the text exactly.
SEARCH_EXPRESSION = (
    "regexp_replace(title || '|' || title_pinyin || '|' || title_initials || '|' "
    "|| responsibility || '|' || publisher, '([^\\x01-\\x7f])', '\\1\\1\\1', 'g')"
)

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS collections_title_catalogue_trgm ON collections_app_title "
    f"USING gin (({SEARCH_EXPRESSION}) gin_trgm_ops)",
    # A CLC class as a prefix (I24 finds I247.5): the database's collation is not C, so a plain
    # b-tree cannot serve LIKE 'I24%'.
    "CREATE INDEX IF NOT EXISTS collections_title_clc_prefix ON collections_app_title "
    "(library_id, clc varchar_pattern_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS collections_title_clc_prefix",
    "DROP INDEX IF EXISTS collections_title_catalogue_trgm",
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
        ("collections_app", "0007_fill_title_pinyin"),
    ]

    operations = [
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
