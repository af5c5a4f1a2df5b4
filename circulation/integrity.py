"""Proof that the data adds up: every invariant of the design as one set-based query.

Each check is one SQL statement that selects the ids of the rows breaking one rule; it runs the
same on SQLite and PostgreSQL, reads each table at most a few times whatever its size, and never
loops over items in Python. `find_violations()` returns the broken rules (an empty list when
everything holds), `run_checks()` every rule with its count, for `manage.py check_integrity`.

What is proved, and why each rule holds when every write goes through the services:

- one state per item: its status is one of the known states, and its status agrees with its
  loans (on loan ⇔ exactly one open loan) and with its transfers (in transit ⇔ an open line on a
  dispatched transfer; an item on an open draft is still on the shelf; an item on an open
  transfer stands at the transfer's source until it is received);
- a transfer line is open exactly while its transfer is draft or dispatched and the line is
  still pending (the copy kept on the line so that "one open transfer per item" can be an index);
- at most one open loan and one open transfer per item (the partial unique indexes, proved
  again in case an index was dropped or a restore skipped it);
- the volumes of a book box stand at one site, and travel on one transfer or none;
- a trapped hold's copy stands at the pickup site, off any transfer, or is on its way there on a
  hold transfer;
- no reader holds more open loans than the loan rules allowed: each loan was lent under the rule
  for the reader's category at the lending site's kind (else the rule for every kind), and the
  last checkout was refused at the limit, so the open loans never exceed the largest of those;
- an item's latest history row (by time, then id) leaves it in its current status and at its
  current site (a volume in transit stands at its source until it is received; its dispatch row
  names the transfer, and through it the destination). An item without any history must still
  be as it was created, on the shelf at its home site: anything else moved it unrecorded;
- items, loans, transfers and their lines stay inside one library: the sites, readers,
  consignment and items they point at belong to the same library;
- the holdings summary (volumes per library, owner, site, consignment, CLC class, display,
  status and "ever lent") adds up, group by group, to the volumes counted live;
- no consignment past "announced" is empty: an import that failed must not leave one behind
  with no items, no copies awaiting barcodes and no import.

Dates (returned after checked out, due after checkout, received after dispatched) are check
constraints of the tables and not repeated here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext_lazy as _

from circulation.models import Hold, Loan, LoanRule, Patron
from collections_app.models import (
    AwaitingBarcodes,
    Box,
    Consignment,
    ConsignmentImport,
    Item,
    ItemEvent,
    Library,
    Site,
    Title,
    Transfer,
    TransferLine,
)
from collections_app.services.holdings import mismatch_sql

EXAMPLES = 10


@dataclass
class Violation:
    name: str
    description: str
    count: int
    examples: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    name: str
    description: object  # a lazy translation
    sql: Callable[[Callable[[str], str]], str]


def _tables() -> dict[str, str]:
    models = {
        "item": Item,
        "event": ItemEvent,
        "loan": Loan,
        "patron": Patron,
        "rule": LoanRule,
        "hold": Hold,
        "site": Site,
        "title": Title,
        "box": Box,
        "transfer": Transfer,
        "line": TransferLine,
        "consignment": Consignment,
        "imports": ConsignmentImport,
        "awaiting": AwaitingBarcodes,
    }
    return {key: model._meta.db_table for key, model in models.items()}


T = _tables()
VALID_STATUSES = ", ".join(f"'{value}'" for value in Item.Status.values)
OPEN_TRANSFER = ", ".join(f"'{value}'" for value in Transfer.OPEN)


# Each `sql` receives `only(alias)`: the condition that keeps the rows of the library asked for
# (or every row), and returns a statement selecting one column, `id`.

CHECKS = [
    Check(
        "item_status_valid",
        _("每册图书处于且只处于一种已知状态（图书 ID）"),
        lambda only: (
            f"""
            SELECT i.id FROM {T["item"]} i
            WHERE {only("i")} AND (i.status IS NULL OR i.status NOT IN ({VALID_STATUSES}))
        """
        ),
    ),
    Check(
        "item_on_loan_matches_open_loan",
        _("借出的图书恰有一条未还的借阅记录，其他图书没有（图书 ID）"),
        lambda only: (
            f"""
            SELECT i.id FROM {T["item"]} i
            LEFT JOIN (
                SELECT item_id, COUNT(*) AS n FROM {T["loan"]}
                WHERE returned_at IS NULL GROUP BY item_id
            ) l ON l.item_id = i.id
            WHERE {only("i")}
              AND ((i.status = 'on_loan' AND COALESCE(l.n, 0) <> 1)
                   OR (i.status <> 'on_loan' AND l.n IS NOT NULL))
        """
        ),
    ),
    Check(
        "item_in_transit_matches_transfer",
        _(
            "在途的图书恰在一张已发出调拨单的未完结明细上，草稿调拨单上的图书仍在架，"
            "调拨单上的图书都在发出站点（图书 ID）"
        ),
        lambda only: (
            f"""
            SELECT i.id FROM {T["item"]} i
            LEFT JOIN (
                SELECT tl.item_id,
                       SUM(CASE WHEN t.status = 'dispatched' THEN 1 ELSE 0 END) AS dispatched,
                       SUM(CASE WHEN t.status = 'draft' THEN 1 ELSE 0 END) AS drafts,
                       MIN(t.source_id) AS source_min, MAX(t.source_id) AS source_max
                FROM {T["line"]} tl JOIN {T["transfer"]} t ON t.id = tl.transfer_id
                WHERE tl.is_open GROUP BY tl.item_id
            ) o ON o.item_id = i.id
            WHERE {only("i")}
              AND ((i.status = 'in_transit' AND COALESCE(o.dispatched, 0) <> 1)
                   OR (i.status <> 'in_transit' AND o.dispatched > 0)
                   OR (o.drafts > 0 AND i.status <> 'available')
                   OR (o.item_id IS NOT NULL
                       AND (o.source_min <> i.current_site_id
                            OR o.source_max <> i.current_site_id)))
        """
        ),
    ),
    Check(
        "transfer_line_open_matches_transfer",
        _("调拨明细未完结，当且仅当调拨单是草稿或已发出且明细待接收（调拨明细 ID）"),
        lambda only: (
            f"""
            SELECT tl.id FROM {T["line"]} tl JOIN {T["transfer"]} t ON t.id = tl.transfer_id
            WHERE {only("tl")}
              AND (CASE WHEN tl.is_open THEN 1 ELSE 0 END)
                  <> (CASE WHEN t.status IN ({OPEN_TRANSFER}) AND tl.state = 'pending'
                      THEN 1 ELSE 0 END)
        """
        ),
    ),
    Check(
        "one_open_loan_per_item",
        _("每册图书最多一条未还的借阅记录（图书 ID）"),
        lambda only: (
            f"""
            SELECT l.item_id AS id FROM {T["loan"]} l
            WHERE {only("l")} AND l.returned_at IS NULL
            GROUP BY l.item_id HAVING COUNT(*) > 1
        """
        ),
    ),
    Check(
        "one_open_transfer_per_item",
        _("每册图书最多在一张未完结的调拨单上（图书 ID）"),
        lambda only: (
            f"""
            SELECT tl.item_id AS id FROM {T["line"]} tl
            WHERE {only("tl")} AND tl.is_open
            GROUP BY tl.item_id HAVING COUNT(*) > 1
        """
        ),
    ),
    Check(
        "box_on_one_site",
        _("流动书箱的图书都在同一站点，要么一起在同一张调拨单上途中，要么都不在途（书箱 ID）"),
        lambda only: (
            f"""
            SELECT b.id FROM {T["box"]} b
            JOIN {T["item"]} i ON i.box_id = b.id
            LEFT JOIN (
                SELECT tl.item_id, tl.transfer_id FROM {T["line"]} tl
                JOIN {T["transfer"]} t ON t.id = tl.transfer_id
                WHERE tl.is_open AND t.status = 'dispatched'
            ) o ON o.item_id = i.id
            WHERE {only("b")}
            GROUP BY b.id
            HAVING COUNT(DISTINCT i.current_site_id) > 1
                OR COUNT(DISTINCT COALESCE(o.transfer_id, 0)) > 1
        """
        ),
    ),
    Check(
        "trapped_hold_item_placed",
        _(
            "已留书的预约，其图书在取书站点在架且不在调拨单上，"
            "或在发往取书站点的预约调拨单上（预约 ID）"
        ),
        lambda only: (
            f"""
            SELECT h.id FROM {T["hold"]} h
            JOIN {T["item"]} i ON i.id = h.item_id
            LEFT JOIN (
                SELECT tl.item_id, t.reason, t.destination_id FROM {T["line"]} tl
                JOIN {T["transfer"]} t ON t.id = tl.transfer_id
                WHERE tl.is_open
            ) o ON o.item_id = i.id
            WHERE {only("h")} AND h.status = 'trapped'
              AND NOT (o.item_id IS NULL AND i.status = 'available'
                       AND i.current_site_id = h.pickup_site_id)
              AND NOT (o.item_id IS NOT NULL AND o.reason = 'hold'
                       AND o.destination_id = h.pickup_site_id
                       AND i.status IN ('available', 'in_transit'))
        """
        ),
    ),
    Check(
        "loan_limit",
        _("读者未还的借阅不超过借阅规则允许的册数（读者 ID）"),
        lambda only: (
            f"""
            SELECT x.patron_id AS id FROM (
                SELECT l.patron_id, COUNT(*) AS n,
                       MAX(COALESCE(kind_rule.max_items, any_rule.max_items)) AS allowed
                FROM {T["loan"]} l
                JOIN {T["patron"]} p ON p.id = l.patron_id
                JOIN {T["site"]} s ON s.id = l.site_id
                LEFT JOIN {T["rule"]} kind_rule
                    ON kind_rule.library_id = s.library_id
                   AND kind_rule.category = p.category AND kind_rule.site_kind = s.kind
                LEFT JOIN {T["rule"]} any_rule
                    ON any_rule.library_id = s.library_id
                   AND any_rule.category = p.category AND any_rule.site_kind = ''
                WHERE {only("l")} AND l.returned_at IS NULL
                GROUP BY l.patron_id
            ) x
            WHERE x.allowed IS NULL OR x.n > x.allowed
        """
        ),
    ),
    Check(
        "item_history_matches_item",
        _(
            "图书最后一条流转记录的新状态和新站点就是它现在的状态和站点；"
            "没有流转记录的图书仍在所属站点在架（图书 ID）"
        ),
        lambda only: (
            f"""
            SELECT i.id FROM {T["item"]} i
            -- Every item's rows are ranked, whatever the library: a filter inside this
            -- window made SQLite rank once per item (150 s on the demo instead of 1 s).
            -- Latest by id, not by time: the item lock orders one item's writes, while
            -- the clocks of two web servers need not agree.
            LEFT JOIN (
                SELECT item_id, to_status, to_site_id FROM (
                    SELECT e.item_id, e.to_status, e.to_site_id,
                           ROW_NUMBER() OVER (
                               PARTITION BY e.item_id ORDER BY e.id DESC
                           ) AS latest
                    FROM {T["event"]} e
                ) ranked WHERE latest = 1
            ) e ON e.item_id = i.id
            WHERE {only("i")}
              AND ((e.item_id IS NULL
                    AND NOT (i.status = 'available' AND i.current_site_id = i.home_site_id))
                   OR e.to_status <> i.status
                   OR (e.item_id IS NOT NULL
                       AND COALESCE(e.to_site_id, 0) <> i.current_site_id))
        """
        ),
    ),
    Check(
        "item_in_one_library",
        _("图书的当前站点、所属站点、书目和批次都属于图书所在的图书馆（图书 ID）"),
        lambda only: (
            f"""
            SELECT i.id FROM {T["item"]} i
            JOIN {T["site"]} cs ON cs.id = i.current_site_id
            JOIN {T["site"]} hs ON hs.id = i.home_site_id
            JOIN {T["title"]} ti ON ti.id = i.title_id
            JOIN {T["consignment"]} c ON c.id = i.consignment_id
            WHERE {only("i")}
              AND (cs.library_id <> i.library_id OR hs.library_id <> i.library_id
                   OR ti.library_id <> i.library_id OR c.library_id <> i.library_id)
        """
        ),
    ),
    Check(
        "loan_in_one_library",
        _("借阅记录的图书、读者、借出站点和归还站点都属于同一图书馆（借阅记录 ID）"),
        lambda only: (
            f"""
            SELECT l.id FROM {T["loan"]} l
            JOIN {T["item"]} i ON i.id = l.item_id
            JOIN {T["patron"]} p ON p.id = l.patron_id
            JOIN {T["site"]} s ON s.id = l.site_id
            LEFT JOIN {T["site"]} rs ON rs.id = l.return_site_id
            WHERE {only("l")}
              AND (i.library_id <> l.library_id OR p.library_id <> l.library_id
                   OR s.library_id <> l.library_id
                   OR (rs.id IS NOT NULL AND rs.library_id <> l.library_id))
        """
        ),
    ),
    Check(
        "transfer_in_one_library",
        _("调拨单的发出站点、接收站点、明细和图书都属于同一图书馆（调拨单 ID）"),
        lambda only: (
            f"""
            SELECT t.id FROM {T["transfer"]} t
            JOIN {T["site"]} src ON src.id = t.source_id
            LEFT JOIN {T["site"]} dst ON dst.id = t.destination_id
            WHERE {only("t")}
              AND (src.library_id <> t.library_id
                   OR (dst.id IS NOT NULL AND dst.library_id <> t.library_id))
            UNION
            SELECT t.id FROM {T["line"]} tl
            JOIN {T["transfer"]} t ON t.id = tl.transfer_id
            JOIN {T["item"]} i ON i.id = tl.item_id
            WHERE {only("t")}
              AND (tl.library_id <> t.library_id OR i.library_id <> t.library_id)
        """
        ),
    ),
    Check(
        "holdings_summary_matches_items",
        _("馆藏汇总表的册数与按图书实时清点的册数一致（站点 ID）"),
        mismatch_sql,
    ),
    Check(
        "no_empty_consignment",
        _("已开始验收的批次不会是空的：有图书、待贴条码的册数或导入记录（批次 ID）"),
        lambda only: (
            f"""
            SELECT c.id FROM {T["consignment"]} c
            WHERE {only("c")} AND c.status <> 'announced'
              AND NOT EXISTS (SELECT 1 FROM {T["item"]} i WHERE i.consignment_id = c.id)
              AND NOT EXISTS (SELECT 1 FROM {T["awaiting"]} a WHERE a.consignment_id = c.id)
              AND NOT EXISTS (SELECT 1 FROM {T["imports"]} m WHERE m.consignment_id = c.id)
        """
        ),
    ),
]


def _library_id(library) -> int | None:
    if library is None:
        return None
    if isinstance(library, Library):
        return library.pk
    if isinstance(library, int):
        return library
    return Library.objects.values_list("pk", flat=True).get(code=library)


def run_check(check: Check, library_id: int | None) -> Violation:
    def only(alias: str) -> str:
        return "1 = 1" if library_id is None else f"{alias}.library_id = %(library)s"

    sql = f"""
        SELECT id, COUNT(*) OVER () FROM (SELECT DISTINCT id FROM ({check.sql(only)}) q) d
        ORDER BY id LIMIT {EXAMPLES}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, None if library_id is None else {"library": library_id})
        rows = cursor.fetchall()
    return Violation(
        name=check.name,
        description=str(check.description),
        count=rows[0][1] if rows else 0,
        examples=[row[0] for row in rows],
    )


def run_checks(library=None) -> list[Violation]:
    """Every check, broken or not, in a fixed order; `library` is a Library, its id or code."""
    library_id = _library_id(library)
    return [run_check(check, library_id) for check in CHECKS]


def find_violations(library=None) -> list[Violation]:
    """The broken invariants only: `[]` when the data adds up."""
    return [result for result in run_checks(library) if result.count]
