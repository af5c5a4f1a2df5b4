"""读者需求: what readers looked for in the public catalogue and did not find, for the county,
the province and the NLC, which chooses what it lends next.

A search that finds nothing, or finds titles whose every copy is out while readers queue for
them, is counted by `demand_record`: one row per library, site, month, CLC class, outcome and
query, its count raised in the database by one statement (INSERT … ON CONFLICT DO UPDATE), so
two readers searching at the same moment both count. Who searched is never stored: no reader,
no address, no session. The query text is what the NLC needs to know ("what readers looked
for"), so it is kept, cut to QUERY_LENGTH characters; text that looks like a card, telephone or
identity number is dropped before it is counted (`demand_query`).

The report and the section of the period report (`reports/pages/demand.py`) and the titles
in demand at one site and idle at another (`demand_moves` here, shown beside the rotation
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
from stdnum import isbn as stdnum_isbn
from stdnum.cn import ric

from circulation.models import Hold, Patron
from collections_app.models import ClcClass, Item, Library, Site, Title, TransferLine
from reports.facts import month_start
from reports.models import DemandSearch, RefreshState

logger = logging.getLogger(__name__)

QUERY_LENGTH = 64
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
    if month < month_start(timezone.localdate()):
        # A month the refresh may already have summed (DemandMonth): read live again until
        # the next refresh sums it anew. Searches of the current month never come here.
        RefreshState.objects.filter(name="demand", summarised_until__gt=month).update(
            summarised_until=month
        )


def demand_record_quietly(**kwargs) -> None:
    """`demand_record` for a reader's search: a counter that fails is logged, and the reader
    still gets their answer."""
    try:
        with transaction.atomic():
            demand_record(**kwargs)
    except DatabaseError:
        logger.exception("demand count failed")


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
