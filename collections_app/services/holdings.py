"""The holdings summary (`HoldingCount`): volumes per library, owner, site, consignment, CLC top
class, display, status, "ever lent" and the month they were last lent, kept current in the
transaction of every change.

The month (of `last_loan_at`, in UTC; NULL when never lent) lets a report count the shelf's
idle volumes from the summary: every volume last lent in a month before the day asked is idle,
and only the shelf's volumes last lent in that one month are counted live
(`reports.engine.holdings`). The month is kept apart only as far back as an idle question needs
it: every month before the horizon (`horizon_month`, `HORIZON_MONTHS` back) is written as the
horizon itself, so a group has at most HORIZON_MONTHS + 2 rows after the fold (never lent, the
horizon, the months since) however many years its volumes were lent over.

The horizon moves forward a month at the turn of each UTC month, and rows written before that
still hold the older one until the next fold. So every reader clamps again with its own day's
horizon: the fold folds them into the new horizon's row, `mismatch_sql` compares the clamped
sums with the volumes clamped the same way, and the idle read uses the months only after the
horizon (a question reaching further counts the shelf's lent volumes live). Clamping twice is
clamping once with the later horizon, so the sums agree whichever horizon a row was written
with — as long as the clock does not go back a month between the write and the read.

Append-only rows, not one counter per group: a change adds −1 for the group a volume leaves and
+1 for the group it joins (nothing when they are the same group), so two desks lending at one
site at the same moment each insert their own rows and neither waits for the other's lock, and
no order of changes can deadlock. `bench/holdings_contention.py` measured both designs on
PostgreSQL (docs/reports.md). The sums are what counts; `holdings_fold()` collapses each group
into one row (the nightly report refresh calls it), so the table stays a few thousand rows.

Who calls what:
- `item_transition` / `item_transition_many` (every status or place change) → `record_change`;
- a title's class corrected in the admin → `holdings_reclassify`;
- the manifest import, the demo generator and the tests' `make_item` → `holdings_add`;
- a bulk load written around the services (the benchmarks) → `holdings_rebuild`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.utils import timezone

from collections_app.models import HoldingCount, Item, Title
from sharedloan.prepared import fixed_cursor

CHUNK = 5000  # ids per statement (twice that many parameters: inside SQLite's 32,766)
KEEP = object()  # a column the change leaves as it is

H, I, T = HoldingCount._meta.db_table, Item._meta.db_table, Title._meta.db_table  # noqa: E741
GROUP = "library_id, owner_id, site_id, consignment_id, clc_top, display_id, status, lent"
KEY = f"{GROUP}, lent_month"
FROM_ITEMS = f"FROM {I} i JOIN {T} t ON t.id = i.title_id"


def month_sql(column: str) -> str:
    """The first day of the UTC month of a timestamp column, as a date, in the database's
    dialect (NULL stays NULL): the summary's `lent_month`."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column} AT TIME ZONE 'UTC') AS date)"
    return f"date({column}, 'start of month')"  # SQLite keeps timestamps as UTC text


def lent_month(at) -> date | None:
    """The `lent_month` of a volume last lent at `at` (an aware datetime, or None)."""
    if at is None:
        return None
    at = at.astimezone(UTC)
    return date(at.year, at.month, 1)


# How far back the summary keeps last-loan months apart. The report pages ask for the shelf's
# volumes idle `idle_days` (馆藏与周转 and its idle list: 90 days unless the librarian types
# another number; the rotation planner and the demand moves ask 90 too, from the volumes); a
# year without a loan is the longest question a library asks as a rule (weeding, rotation out).
# 365 days back from any day falls at most 12 months before the day's month, so with the horizon
# 13 months back every question up to a year still finds the months it splits on apart in the
# summary. Longer ones (the form takes up to 3,650 days) count their lent volumes live.
HORIZON_MONTHS = 13


def horizon_month(day: date | datetime | None = None) -> date:
    """The oldest last-loan month the summary keeps apart on `day` (a date, an aware datetime
    taken in UTC, or now): the first of the month HORIZON_MONTHS before the day's month. Every
    older month is counted as this one."""
    if day is None:
        day = timezone.now()
    if isinstance(day, datetime):
        day = day.astimezone(UTC).date()
    months = day.year * 12 + day.month - 1 - HORIZON_MONTHS
    return date(months // 12, months % 12 + 1, 1)


def _date_sql(day: date) -> str:
    # A literal: the SQL it goes into is also handed around as text (`mismatch_sql`).
    if connection.vendor == "postgresql":
        return f"CAST('{day.isoformat()}' AS date)"
    return f"'{day.isoformat()}'"  # SQLite keeps dates as ISO text, which sorts as dates


def clamp_sql(month: str, horizon: date) -> str:
    """The month expression `month` brought forward to `horizon` when older (NULL stays NULL:
    PostgreSQL's GREATEST would turn it into the horizon)."""
    h = _date_sql(horizon)
    return f"CASE WHEN {month} < {h} THEN {h} ELSE {month} END"


def clamped(month: date | None, horizon: date) -> date | None:
    """`clamp_sql` for a month in hand."""
    return None if month is None else max(month, horizon)


def now_sql(horizon: date | None = None) -> str:
    """A volume's group as it stands: the same expressions everywhere, so the sums can agree."""
    horizon = horizon or horizon_month()
    return (
        "i.library_id, i.owner_id, i.current_site_id AS site_id, i.consignment_id, t.clc_top, "
        "i.display_id, i.status, "
        "CASE WHEN i.last_loan_at IS NULL THEN FALSE ELSE TRUE END AS lent, "
        f"{clamp_sql(month_sql('i.last_loan_at'), horizon)} AS lent_month"
    )


def summary_sql(table: str, horizon: date) -> str:
    """The summary's rows in `table` (or a subquery) with their months clamped to `horizon`:
    rows written before the horizon last moved join its row."""
    return f"SELECT {GROUP}, {clamp_sql('lent_month', horizon)} AS lent_month, volumes FROM {table}"


def record_change(
    item_ids: Sequence[int],
    *,
    status=KEEP,
    site_id=KEEP,
    display_id=KEEP,
    last_loan_at=KEEP,
    clc_top=KEEP,
) -> None:
    """Before the UPDATE that makes a change: −1 for each volume's group now, +1 for the group
    the change puts it in, netted per group in one INSERT … SELECT per chunk. The caller holds
    the volumes' locks. `last_loan_at` is the volumes' new last loan (a datetime or None)."""
    if all(value is KEEP for value in (status, site_id, display_id, last_loan_at, clc_top)):
        return
    horizon = horizon_month()
    params = []

    def column(value, current, cast):
        if value is KEEP:
            return current
        params.append(value)  # in the order the columns appear below
        return f"CAST(%s AS {cast})"

    site_sql = column(site_id, "i.current_site_id", "bigint")
    clc_sql = column(clc_top, "t.clc_top", "varchar(1)")
    display_sql = column(display_id, "i.display_id", "bigint")
    status_sql = column(status, "i.status", "varchar(20)")
    lent_sql = "CASE WHEN i.last_loan_at IS NULL THEN FALSE ELSE TRUE END"
    month = clamp_sql(month_sql("i.last_loan_at"), horizon)
    if last_loan_at is not KEEP:
        lent_sql = "FALSE" if last_loan_at is None else "TRUE"
        params.append(clamped(lent_month(last_loan_at), horizon))
        # SQLite would read CAST(… AS date) as a number: its dates are text.
        month = "CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"
    after = (
        f"i.library_id, i.owner_id, {site_sql}, i.consignment_id, {clc_sql}, {display_sql}, "
        f"{status_sql}, {lent_sql}, {month}"
    )
    # One volume (a desk's scan) is one fixed string for each kind of change, prepared on
    # PostgreSQL: planned anew it was the costliest statement of a checkout. A batch's string
    # changes with its length, and is sent as Django sends any other.
    with fixed_cursor() if len(item_ids) == 1 else connection.cursor() as cursor:
        for start in range(0, len(item_ids), CHUNK):
            chunk = list(item_ids[start : start + CHUNK])
            where = f"WHERE i.id IN ({', '.join(['%s'] * len(chunk))})"
            cursor.execute(
                f"""
                INSERT INTO {H} ({KEY}, volumes)
                SELECT {KEY}, SUM(n) FROM (
                    SELECT {now_sql(horizon)}, -1 AS n {FROM_ITEMS} {where}
                    UNION ALL
                    SELECT {after}, 1 AS n {FROM_ITEMS} {where}
                ) d
                GROUP BY {KEY} HAVING SUM(n) <> 0
                """,
                [*chunk, *params, *chunk],
            )


def holdings_reclassify(*, title, clc_top: str) -> None:
    """Before a title's CLC top class changes: its volumes (locked here) move to the new
    class's groups."""
    ids = list(Item.objects.select_for_update().filter(title=title).values_list("pk", flat=True))
    record_change(ids, clc_top=clc_top)


def holdings_add(*, item_ids: Sequence[int]) -> None:
    """Volumes just created: +1 for each one's group."""
    _add(item_ids, 1)


def holdings_add_new(
    *, library_id, owner_id, site_id, consignment_id, status, by_class: dict[str, int]
) -> None:
    """Volumes just written in bulk into one place and state (an import: expected, at the
    central library, on no display, never lent), counted by CLC top class by the writer: a few
    rows, without reading the volumes back."""
    HoldingCount.objects.bulk_create(
        HoldingCount(
            library_id=library_id,
            owner_id=owner_id,
            site_id=site_id,
            consignment_id=consignment_id,
            clc_top=clc_top,
            display=None,
            status=status,
            lent=False,
            lent_month=None,
            volumes=n,
        )
        for clc_top, n in by_class.items()
        if n
    )


def holdings_remove(*, item_ids: Sequence[int]) -> None:
    """Volumes about to be deleted: −1 for each one's group (call before the DELETE)."""
    _add(item_ids, -1)


def _add(item_ids, sign):
    horizon = horizon_month()
    with connection.cursor() as cursor:
        for start in range(0, len(item_ids), CHUNK):
            chunk = list(item_ids[start : start + CHUNK])
            cursor.execute(
                f"""
                INSERT INTO {H} ({KEY}, volumes)
                SELECT {KEY}, {sign} * COUNT(*) FROM (
                    SELECT {now_sql(horizon)} {FROM_ITEMS}
                    WHERE i.id IN ({", ".join(["%s"] * len(chunk))})
                ) d
                GROUP BY {KEY}
                """,
                chunk,
            )


def holdings_rebuild(*, library_ids: Sequence[int] | None = None) -> int:
    """Count the summary afresh from the volumes (of `library_ids`, or all): after a bulk load
    that went around the services. The items are share-locked meanwhile, so no change slips in
    between the count and the delete (on PostgreSQL; SQLite has one writer anyway)."""
    only = "" if library_ids is None else f"library_id IN ({', '.join(['%s'] * len(library_ids))})"
    params = [] if library_ids is None else list(library_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {I} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {H}" + (f" WHERE {only}" if only else ""), params)
        cursor.execute(
            f"""
            INSERT INTO {H} ({KEY}, volumes)
            SELECT {KEY}, COUNT(*) FROM (
                SELECT {now_sql(horizon_month())} {FROM_ITEMS} {"WHERE i." + only if only else ""}
            ) d
            GROUP BY {KEY}
            """,
            params,
        )
        return cursor.rowcount


def holdings_fold() -> int:
    """Collapse each group's rows into one (dropping groups that sum to nothing), months before
    today's horizon into the horizon's; returns the rows left. Safe beside running desks: on
    PostgreSQL one statement deletes the rows it sees and inserts their sums, and rows committed
    meanwhile stay as they are; SQLite has one writer at a time."""
    horizon = horizon_month()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                WITH gone AS (DELETE FROM {H} RETURNING {KEY}, volumes)
                INSERT INTO {H} ({KEY}, volumes)
                SELECT {KEY}, SUM(volumes) FROM ({summary_sql("gone", horizon)}) g
                GROUP BY {KEY} HAVING SUM(volumes) <> 0
                """
            )
        else:
            cursor.execute(f"SELECT MAX(id) FROM {H}")
            last = cursor.fetchone()[0] or 0
            cursor.execute(
                f"""
                INSERT INTO {H} ({KEY}, volumes)
                SELECT {KEY}, SUM(volumes) FROM ({summary_sql(H, horizon)} WHERE id <= %s) g
                GROUP BY {KEY} HAVING SUM(volumes) <> 0
                """,
                [last],
            )
            cursor.execute(f"DELETE FROM {H} WHERE id <= %s", [last])
        return HoldingCount.objects.count()


# The agreement `check_integrity` proves: one statement, the sums against the volumes counted
# live, group by group, both with today's horizon; `only(alias)` keeps one library's rows.
# Selects the sites that differ.
def mismatch_sql(only) -> str:
    horizon = horizon_month()
    return f"""
        SELECT site_id AS id FROM (
            SELECT {KEY}, volumes AS n FROM ({summary_sql(f"{H} h WHERE {only('h')}", horizon)}) s
            UNION ALL
            SELECT {KEY}, -1 AS n FROM (
                SELECT {now_sql(horizon)} {FROM_ITEMS} WHERE {only("i")}
            ) live
        ) d
        GROUP BY {KEY} HAVING SUM(n) <> 0
    """
