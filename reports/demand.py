"""读者需求: what readers looked for in the public catalogue and did not find, for the county,
the province and the NLC, which chooses what it lends next.

A search that finds nothing, or finds titles whose every copy is out while readers queue for
them, is counted by `demand_record`: one row per library, site, month, CLC class, outcome and
query, its count raised in the database by one statement (INSERT … ON CONFLICT DO UPDATE), so
two readers searching at the same moment both count. Who searched is never stored: no reader,
no address, no session. The query text is what the NLC needs to know ("what readers looked
for"), so it is kept, cut to QUERY_LENGTH characters; text that looks like a card, telephone or
identity number is dropped before it is counted (`demand_query`).

The report (`demand_report`), the section of the period report (`period_tables`) and the
titles in demand at one site and idle at another (`demand_moves`, shown beside the rotation
suggestions) read these rows and the circulation holds.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import isbn as stdnum_isbn
from stdnum.cn import ric

from circulation.models import Hold, Patron
from collections_app.models import ClcClass, Item, Library, Site, Title, TransferLine
from reports.facts import month_start
from reports.models import DemandSearch
from reports.queries import LoanScope, ReportError
from reports.tables import PCT, RATIO, TEXT, Column, Labels, Table

logger = logging.getLogger(__name__)

QUERY_LENGTH = 64
# Rows a table of queries or holds shows (and a period report freezes).
TOP = 100
PERIOD_TOP = 20
# Six digits in a row, unless the text is an ISBN: a card, telephone or identity number, a
# postcode or a date of birth — none of them a title anyone looks for.
_DIGITS = re.compile(r"\d{6,}")
_COMPACT = re.compile(r"[\s\-_.()（）]+")
_EMAILISH = re.compile(r"\S+@\S+")
_CLC_NAME_SPLIT = re.compile(r"[、，,和与及]")

Outcome = DemandSearch.Outcome


# Counting


def demand_query(text: str, *, library: Library | None = None) -> str | None:
    """The query as it is counted (case folded, spaces collapsed, at most QUERY_LENGTH
    characters), or None when it looks like personal data: an identity number (checked with
    its check digit), a run of six or more digits that is not an ISBN (card and telephone
    numbers), an e-mail address, or a card number of the library's readers."""
    text = " ".join((text or "").split()).casefold()
    if not text:
        return None
    compact = _COMPACT.sub("", text)
    if ric.is_valid(compact.upper()) or _EMAILISH.search(text):
        return None
    if _DIGITS.search(compact) and not stdnum_isbn.is_valid(compact):
        return None
    if (
        library is not None
        # Exact matches, so the (library, card number) unique index answers.
        and Patron.objects.filter(
            library=library,
            card_number__in={form(v) for v in (text, compact) for form in (str.upper, str.lower)},
        ).exists()
    ):
        return None
    return text[:QUERY_LENGTH]


_name_parts: list[tuple[str, str]] = []


def _clc_name_parts() -> list[tuple[str, str]]:
    """(top class, a part of a class name of two characters or more), read once: the CLC
    classes are reference data that a migration loads."""
    if not _name_parts:
        for code, name in ClcClass.objects.values_list("code", "name_zh"):
            for part in _CLC_NAME_SPLIT.split(name):
                if len(part.strip()) >= 2:
                    _name_parts.append((code[:1], part.strip()))
    return _name_parts


def clc_of_text(text: str) -> str:
    """The top CLC class a reader meant when the query names one (文学 → I, 中国历史 → K), or
    "" when no class name is in it or the names found point to different classes."""
    text = (text or "").strip()
    if len(text) < 2:
        return ""
    found: dict[str, int] = {}
    for top, part in _clc_name_parts():
        if part in text:
            found[top] = max(found.get(top, 0), len(part))
    if not found:
        return ""
    longest = max(found.values())
    tops = [top for top, length in found.items() if length == longest]
    return tops[0] if len(tops) == 1 else ""


def _key(library_id, site_id, month: date, clc_top, outcome, title_id, query) -> str:
    return "|".join(
        str(part)
        for part in (
            library_id,
            site_id or "",
            f"{month:%Y-%m}",
            clc_top,
            outcome,
            title_id or "",
            query,
        )
    )


def demand_record(
    *,
    library: Library,
    query: str,
    outcome: str,
    site: Site | None = None,
    clc_top: str = "",
    title: Title | None = None,
    at: datetime | None = None,
    times: int = 1,
) -> None:
    """Count `times` searches for `query` (already cleaned by `demand_query`) in the month of
    `at`: one statement, atomic in the database, whoever else counts the same row at once."""
    if outcome not in Outcome.values:
        raise ValueError(f"unknown outcome {outcome!r}")
    if times < 1:
        return
    query = query[:QUERY_LENGTH]
    clc_top = (clc_top or "")[:1].upper()
    month = month_start(timezone.localdate(at or timezone.now()))
    site_id = site.pk if site is not None else None
    title_id = title.pk if title is not None else None
    table = connection.ops.quote_name(DemandSearch._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(c)
        for c in (
            "key",
            "library_id",
            "site_id",
            "month",
            "clc_top",
            "query",
            "outcome",
            "title_id",
            "searches",
        )
    )
    searches = connection.ops.quote_name("searches")
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        f"ON CONFLICT ({connection.ops.quote_name('key')}) "
        f"DO UPDATE SET {searches} = {table}.{searches} + EXCLUDED.{searches}"
    )
    params = [
        _key(library.pk, site_id, month, clc_top, outcome, title_id, query),
        library.pk,
        site_id,
        connection.ops.adapt_datefield_value(month),
        clc_top,
        query,
        outcome,
        title_id,
        times,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def demand_record_quietly(**kwargs) -> None:
    """`demand_record` for a reader's search: a counter that fails is logged, and the reader
    still gets their answer."""
    try:
        with transaction.atomic():
            demand_record(**kwargs)
    except DatabaseError:
        logger.exception("demand count failed")


# Reading


def demand_rows(scope: LoanScope, start: date, end: date, filters: dict | None = None):
    """The counted searches of the months that [start, end) touches, within `scope`."""
    filters = filters or {}
    rows = DemandSearch.objects.filter(month__gte=month_start(start), month__lt=end)
    if scope.library_ids is not None:
        rows = rows.filter(library_id__in=scope.library_ids)
    if scope.site_ids is not None:
        rows = rows.filter(site_id__in=scope.site_ids)
    for name in ("library", "site", "clc_top"):
        if filters.get(name):
            rows = rows.filter(**{name if name == "clc_top" else f"{name}_id": filters[name]})
    return rows


def scoped_holds(scope: LoanScope, filters: dict | None = None):
    """Holds of the libraries in `scope` (counted, never listed by reader). The lender sees
    the holds for titles of which it lent a copy."""
    filters = filters or {}
    holds = Hold.objects.all()
    if scope.library_ids is not None:
        holds = holds.filter(library_id__in=scope.library_ids)
    if scope.site_ids is not None:
        holds = holds.filter(pickup_site_id__in=scope.site_ids)
    if scope.owner_id is not None:
        lent = Item.objects.filter(title=OuterRef("title"), owner_id=scope.owner_id)
        holds = holds.filter(Exists(lent))
    if filters.get("library"):
        holds = holds.filter(library_id=filters["library"])
    if filters.get("site"):
        holds = holds.filter(pickup_site_id=filters["site"])
    if filters.get("clc_top"):
        holds = holds.filter(title__clc_top=filters["clc_top"])
    return holds


def _by(rows, *names):
    return (
        rows.values(*names)
        .annotate(
            none=Sum("searches", filter=Q(outcome=Outcome.NONE), default=0),
            queued=Sum("searches", filter=Q(outcome=Outcome.QUEUED), default=0),
            total=Sum("searches", default=0),
        )
        .order_by()
    )


def queries_table(rows, labels: Labels, limit: int = TOP, *, totals=None) -> Table:
    """The most sought queries; `totals` (not found, queued, all) when already counted."""
    table = Table(
        "demand-queries",
        _("读者检索而未找到的（按检索次数）"),
        [
            Column(_("检索词"), TEXT),
            Column(_("中图法大类"), TEXT),
            Column(_("未找到")),
            Column(_("均已借出且有人排队")),
            Column(_("合计")),
        ],
    )
    counted = _by(rows, "query", "clc_top").order_by("-total", "query", "clc_top")[:limit]
    for row in counted:
        table.rows.append(
            [
                row["query"],
                labels("clc_top", row["clc_top"]),
                row["none"],
                row["queued"],
                row["total"],
            ]
        )
    if totals is None:
        summed = rows.aggregate(
            none=Sum("searches", filter=Q(outcome=Outcome.NONE), default=0),
            queued=Sum("searches", filter=Q(outcome=Outcome.QUEUED), default=0),
            total=Sum("searches", default=0),
        )
        totals = [summed["none"], summed["queued"], summed["total"]]
    table.total = [_("合计"), "", *totals]
    table.note = _("只列检索次数最多的 %(n)d 个检索词；合计为全部检索。") % {"n": limit}
    return table


class _SearchesChart(Table):
    """A table whose chart shows the searches not found and queued, not their sum again."""

    def chart_data(self, *, series_columns=None) -> dict:
        return super().chart_data(series_columns=series_columns or [1, 2])


def classes_table(rows, labels: Labels, preferences: Table | None = None) -> Table:
    """Searches by class; beside them, from the preference report, the class's share of loans
    and of the shelf and its demand index."""
    share = {}
    if preferences is not None:
        share = {row[0]: (row[4], row[2], row[5]) for row in preferences.rows}
    table = _SearchesChart(
        "demand-classes",
        _("未找到的检索（按中图法大类）"),
        [
            Column(_("中图法大类"), TEXT),
            Column(_("未找到")),
            Column(_("均已借出且有人排队")),
            Column(_("合计")),
            Column(_("借阅占比"), PCT),
            Column(_("馆藏占比"), PCT),
            Column(_("需求指数"), RATIO),
        ],
        chart="bar",
    )
    counted = {row["clc_top"]: row for row in _by(rows, "clc_top")}
    for clc in labels.order("clc_top", counted):
        row = counted[clc]
        label = labels("clc_top", clc)
        loans, held, index = share.get(label, (None, None, None)) if clc else (None, None, None)
        table.rows.append([label, row["none"], row["queued"], row["total"], loans, held, index])
    table.total = [
        _("合计"),
        sum(r["none"] for r in counted.values()),
        sum(r["queued"] for r in counted.values()),
        sum(r["total"] for r in counted.values()),
        None,
        None,
        None,
    ]
    table.note = _(
        "类别由检索词推断：分类号、所选的大类或检索词中的类名；推断不出的记为未分类。"
        "借阅占比、馆藏占比和需求指数取自读者偏好报表。"
    )
    return table


def sites_table(rows, labels: Labels, start: date, end: date) -> Table:
    months = []
    current = month_start(start)
    while current < end:
        months.append(current)
        current = month_start(current + timedelta(days=32))
    counted = {}
    for row in _by(rows, "site", "month"):
        counted[(row["site"], row["month"])] = row["total"]
    sites = labels.order("site", {site for site, _month in counted})
    table = Table(
        "demand-sites",
        _("未找到的检索：站点 × 月份"),
        [
            Column(_("站点"), TEXT),
            *[Column(labels("month", m)) for m in months],
            Column(_("合计")),
        ],
        heat=True,
    )
    for site in sites:
        values = [counted.get((site, m), 0) for m in months]
        label = labels("site", site) if site else _("未选站点")
        table.rows.append([label, *values, sum(values)])
    column_sums = [sum(counted.get((s, m), 0) for s in sites) for m in months]
    table.total = [_("合计"), *column_sums, sum(column_sums)]
    table.note = _("站点为读者选择的或读者证登记的服务点；不知道时记为未选站点。")
    return table


@dataclass
class Waited:
    title: str
    site: str
    holds: int
    waiting: int
    longest_days: int
    average_days: float


def holds_waited(
    scope: LoanScope, start: date, end: date, filters=None, *, now=None, limit: int = TOP
):
    """Holds placed in [start, end), by title and pickup site, longest wait first. A hold
    waited from placing until its copy was ready (trapped), or until it was cancelled or
    expired unserved, or until now when it still waits."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    window = (
        timezone.make_aware(datetime.combine(start, datetime.min.time()), tz),
        timezone.make_aware(datetime.combine(end, datetime.min.time()), tz),
    )
    holds = list(
        scoped_holds(scope, filters)
        .filter(placed_at__gte=window[0], placed_at__lt=window[1])
        .values_list("title_id", "pickup_site_id", "placed_at", "trapped_at", "closed_at", "status")
    )
    grouped: dict[tuple, list] = {}
    for title_id, site_id, placed, trapped, closed, status in holds:
        ended = trapped or closed or (now if status == Hold.Status.WAITING else placed)
        wait = max((ended - placed).total_seconds() / 86400, 0.0)
        entry = grouped.setdefault((title_id, site_id), [0, 0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += status == Hold.Status.WAITING
        entry[2] = max(entry[2], wait)
        entry[3] += wait
    top = sorted(grouped.items(), key=lambda kv: (-kv[1][2], -kv[1][0], kv[0]))[:limit]
    titles = Title.objects.in_bulk([key[0] for key, _v in top])
    sites = Site.objects.in_bulk([key[1] for key, _v in top])
    return [
        Waited(
            titles[title_id].title if title_id in titles else str(title_id),
            sites[site_id].name if site_id in sites else "",
            n,
            waiting,
            int(longest),
            round(total / n, 1),
        )
        for (title_id, site_id), (n, waiting, longest, total) in top
    ]


def holds_table(waited: list[Waited], limit: int = TOP) -> Table:
    table = Table(
        "holds-waited",
        _("等待最久的预约"),
        [
            Column(_("题名"), TEXT),
            Column(_("取书站点"), TEXT),
            Column(_("预约数")),
            Column(_("仍在等待")),
            Column(_("最长等待（天）")),
            Column(_("平均等待（天）"), RATIO),
        ],
    )
    for row in waited:
        table.rows.append(
            [row.title, row.site, row.holds, row.waiting, row.longest_days, row.average_days]
        )
    table.note = _(
        "本期提出的预约，从提出到留书（或取消、过期，或至今仍在等待）的天数；只列最久的 %(n)d 条。"
    ) % {"n": limit}
    return table


def demand_report(scope: LoanScope, p, *, preferences: Table | None = None) -> list[Table]:
    """The 读者需求 report: the queries, their classes (beside the preference figures), the
    sites and months, and the holds that waited longest."""
    labels = Labels()
    rows = demand_rows(scope, p.start, p.end, p.filters)
    waited = holds_waited(scope, p.start, p.end, p.filters)
    classes = classes_table(rows, labels, preferences)
    # The classes add up to every search: the queries' total is theirs, not counted again.
    return [
        queries_table(rows, labels, totals=classes.total[1:4]),
        classes,
        sites_table(rows, labels, p.start, p.end),
        holds_table(waited),
    ]


def preference_figures(scope: LoanScope, p) -> Table | None:
    """The first table of the preference report for the same window, or None when it cannot
    be counted (the demand report stands without it)."""
    from reports.selectors import Params, preferences_report

    params = Params(start=p.start, end=p.end, grain="month", filters=dict(p.filters))
    params.filters.pop("clc_top", None)
    try:
        return preferences_report(scope, params)[0]
    except ReportError:
        return None


# The period report's section


def period_tables(library: Library, start: date, end: date, *, now=None) -> list[Table]:
    """What the period report freezes of readers' demand: the library's whole demand in the
    period (searches are not tied to a consignment)."""
    scope = LoanScope.for_library(library)
    labels = Labels()
    rows = demand_rows(scope, start, end)
    classes = classes_table(rows, labels)
    queries = queries_table(rows, labels, PERIOD_TOP, totals=classes.total[1:4])
    classes.columns = classes.columns[:4]
    classes.rows = [row[:4] for row in classes.rows]
    classes.total = classes.total[:4]
    holds = holds_table(holds_waited(scope, start, end, now=now, limit=PERIOD_TOP), PERIOD_TOP)
    for table in (queries, classes, holds):
        table.key = f"period-{table.key}"
    return [queries, classes, holds]


def unfound_total(library: Library, start: date, end: date) -> int:
    scope = LoanScope.for_library(library)
    return demand_rows(scope, start, end).aggregate(n=Sum("searches", default=0))["n"]


# Titles in demand at one site and idle at another


@dataclass
class DemandMove:
    """A copy idle on the shelf at `source` of a title readers wait for at `destination`."""

    title: Title
    destination: Site
    holds_waiting: int
    queued_searches: int
    item: Item
    source: Site
    last_loan_at: datetime | None


def demand_moves(
    library: Library, *, idle_days: int = 90, window_days: int = 90, now=None, limit: int = 50
) -> list[DemandMove]:
    """Titles readers wait for at a site (holds waiting for pickup there, and searches there in
    the last `window_days` that found every copy out with a queue) while a copy of the same
    title has stood unborrowed for `idle_days` on the shelf of another site of the library,
    free to move (not kept for a hold, not on a display or an open transfer)."""
    now = now or timezone.now()
    demand: dict[tuple[int, int], list[int]] = {}
    waiting = (
        Hold.objects.waiting()
        .filter(library=library)
        .values("title_id", "pickup_site_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in waiting:
        demand.setdefault((row["title_id"], row["pickup_site_id"]), [0, 0])[0] += row["n"]
    since = month_start(timezone.localdate(now) - timedelta(days=window_days))
    queued = (
        DemandSearch.objects.filter(
            library=library,
            outcome=Outcome.QUEUED,
            month__gte=since,
            title__isnull=False,
            site__isnull=False,
        )
        .values("title_id", "site_id")
        .annotate(n=Sum("searches"))
        .order_by()
    )
    for row in queued:
        demand.setdefault((row["title_id"], row["site_id"]), [0, 0])[1] += row["n"]
    if not demand:
        return []
    idle_since = now - timedelta(days=idle_days)
    kept = Hold.objects.filter(item=OuterRef("pk"), status=Hold.Status.TRAPPED)
    moving = TransferLine.objects.filter(item=OuterRef("pk"), is_open=True)
    copies = (
        Item.objects.filter(
            library=library,
            title_id__in={title_id for title_id, _site in demand},
            status=Item.Status.AVAILABLE,
            display__isnull=True,
            current_site__is_active=True,
        )
        .filter(Q(last_loan_at__isnull=True) | Q(last_loan_at__lt=idle_since))
        .exclude(Exists(kept))
        .exclude(Exists(moving))
        .select_related("title", "current_site")
        .order_by(F("last_loan_at").asc(nulls_first=True), "pk")
    )
    by_title: dict[int, list[Item]] = {}
    for item in copies:
        by_title.setdefault(item.title_id, []).append(item)
    sites = Site.objects.in_bulk({site_id for _title, site_id in demand})
    moves, used = [], set()
    ranked = sorted(demand.items(), key=lambda kv: (-(kv[1][0] * 10 + kv[1][1]), kv[0]))
    for (title_id, site_id), (holds, searches) in ranked:
        site = sites.get(site_id)
        if site is None or not site.is_active:
            continue
        item = next(
            (
                c
                for c in by_title.get(title_id, [])
                if c.current_site_id != site_id and c.pk not in used
            ),
            None,
        )
        if item is None:
            continue
        used.add(item.pk)
        moves.append(
            DemandMove(
                item.title, site, holds, searches, item, item.current_site, item.last_loan_at
            )
        )
        if len(moves) >= limit:
            break
    return moves
