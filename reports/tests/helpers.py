"""Loans written straight into the table at chosen moments: the reports read loans, whichever
service wrote them."""

from datetime import datetime, timedelta

from django.utils import timezone

from circulation.models import Loan, Patron


def at(text: str) -> datetime:
    """A local (Asia/Shanghai) moment: "2026-05-31 23:30"."""
    return timezone.make_aware(datetime.fromisoformat(text))


def make_patron(library, site, card, category=Patron.Category.ADULT, birth_year=1990, **fields):
    fields.setdefault("name", f"读者{card}")
    return Patron.objects.create(
        library=library,
        card_number=card,
        category=category,
        home_site=site,
        birth_year=birth_year,
        **fields,
    )


def lend(item, patron, site, when, *, returned=None, return_site=None, days=30):
    return Loan.objects.create(
        library=item.library,
        item=item,
        patron=patron,
        site=site,
        checked_out_at=at(when),
        due_at=at(when) + timedelta(days=days),
        returned_at=at(returned) if returned else None,
        return_site=(return_site or site) if returned else None,
    )


def count_search(library, query, *, when="2026-11-20 09:00", site=None, clc="", outcome="none",
                 times=1):  # fmt: skip
    """Readers' unmet searches counted as the catalogue counts them (reports.demand)."""
    from reports.demand import demand_record

    demand_record(
        library=library,
        site=site,
        query=query,
        outcome=outcome,
        clc_top=clc,
        at=at(when),
        times=times,
    )
