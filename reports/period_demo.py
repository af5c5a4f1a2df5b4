"""工作报表 in the demo: each county's monthly and quarterly reports of the last months, prepared,
submitted and reviewed through the services the librarian's and the reviewer's pages use, so that
the provincial review list, the roll-up and the API's period reports (which the NLC's systems
pull) are not empty. Deterministic for an anchor date.

At each county: the last full quarter and the two months before the last full month accepted
by the provincial reviewer; the last full month submitted and waiting for review — except at
the second county, where the reviewer returned it with a comment; the current month a draft."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from collections_app.models import Consignment, Library
from reports.models import PeriodReport
from reports.periods import Period, parse_period
from reports.services import period_report_prepare, period_report_review, period_report_submit

NARRATIVE = (
    "本期按计划完成国图共享借阅图书的流转：总馆与各分馆、服务点按季度轮换，"
    "新到图书已全部上架。读者以少儿和学生为主，文学、农业科学类借阅最多。"
    "下期将向借阅量低的服务点补充少儿读物。"
)
RETURN_COMMENT = "请补充本期服务点轮换的情况，并说明逾期未还图书的催还安排。"


def _month(first: date) -> Period:
    return parse_period(f"{first.year}-{first.month:02d}")


def _months_before(today: date, count: int) -> list[Period]:
    """The `count` full months before the month of `today`, oldest first."""
    months, first = [], today.replace(day=1)
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(_month(first))
    return months[::-1]


def _last_full_quarter(today: date) -> Period:
    quarter = (today.month - 1) // 3  # the current quarter, 0-based
    year = today.year if quarter else today.year - 1
    return parse_period(f"{year}-Q{quarter if quarter else 4}")


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def seed_period_reports(*, today: date) -> dict[str, int]:
    """Prepare, submit and review the demo's period reports for each county library that has
    none yet; the number of reports by status."""
    counts: dict[str, int] = {}
    reviewer = User.objects.filter(role=User.Role.PROVINCIAL, is_active=True).order_by("pk").first()
    counties = Library.objects.filter(kind=Library.Kind.COUNTY).order_by("code")
    with transaction.atomic():
        for number, library in enumerate(counties):
            if PeriodReport.objects.filter(library=library).exists():
                continue
            librarian = (
                User.objects.filter(library=library, role=User.Role.LIBRARIAN, is_active=True)
                .order_by("pk")
                .first()
            )
            consignment = Consignment.objects.filter(library=library).order_by("pk").first()
            if librarian is None or consignment is None or reviewer is None:
                continue
            earlier, before_last, last = _months_before(today, 3)
            # Nothing after the anchor: a demo anchored today stops at now, one anchored on
            # another day (past or future) at noon of that day.
            latest = timezone.now() if today == timezone.localdate() else _at(today, 12)
            plan = [
                (_last_full_quarter(today), "accepted"),
                (earlier, "accepted"),
                (before_last, "accepted"),
                (last, "returned" if number % 2 else "submitted"),
                (_month(today.replace(day=1)), "draft"),
            ]
            for period, outcome in plan:
                prepared = min(_at(period.end, 9), latest)
                report = period_report_prepare(
                    user=librarian,
                    library=library,
                    consignment=consignment,
                    period=period,
                    now=prepared,
                )
                if outcome != "draft":
                    now = latest
                    sent = min(_at(period.end + timedelta(days=3), 10), now)
                    report = period_report_submit(
                        user=librarian, report=report, narrative=NARRATIVE, now=sent
                    )
                    if outcome in ("accepted", "returned"):
                        period_report_review(
                            user=reviewer,
                            report=report,
                            accept=outcome == "accepted",
                            comment="" if outcome == "accepted" else RETURN_COMMENT,
                            now=min(sent + timedelta(days=2), now),
                        )
                counts[outcome] = counts.get(outcome, 0) + 1
    return counts
