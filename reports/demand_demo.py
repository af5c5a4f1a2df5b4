"""读者需求 in the demo: a year of catalogue searches that found nothing, counted through the
same counter as a reader's search (reports.demand.demand_record), so the report, the period
report's section and the rotation page are not empty. Deterministic for an anchor date."""

from __future__ import annotations

import random
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from collections_app.models import Library, Site, Title
from reports.demand import clc_of_text, demand_query, demand_record
from reports.facts import month_start
from reports.models import DemandSearch

# What readers of a county library plausibly ask for and the demo catalogue does not hold,
# with the class a reader who chose the class facet would have given ("" when none).
SOUGHT = (
    ("三体", "I", 9),
    ("平凡的世界", "I", 8),
    ("哈利·波特与魔法石", "I", 7),
    ("白鹿原", "I", 5),
    ("人类简史", "K", 5),
    ("中国历史", "", 4),  # a class name: the class is inferred from the text
    ("儿童文学", "", 6),
    ("少儿科普", "", 4),
    ("中医养生", "R", 4),
    ("果树栽培技术", "S", 4),
    ("家庭养殖", "", 3),
    ("茶叶种植", "S", 3),
    ("电工基础", "T", 2),
    ("法律常识", "D", 3),
    ("高考数学真题", "G", 3),
    ("乡村振兴政策解读", "D", 2),
    ("I247.5", "", 2),  # a class number, as a reader types it
)


def _months_before(today: date, count: int = 12) -> list[date]:
    months, current = [], month_start(today)
    for _ in range(count):
        months.append(current)
        current = month_start(date.fromordinal(current.toordinal() - 1))
    return sorted(months)


def seed_demand(*, today: date) -> int:
    """Count a year of unmet searches for each county library that has none yet; the number of
    searches counted. A few thousand rows whatever the demo's scale: searches are cheap, and a
    smaller catalogue is searched no less."""
    tz = timezone.get_default_timezone()
    counted = 0
    with transaction.atomic():
        for library in Library.objects.filter(kind=Library.Kind.COUNTY).order_by("code"):
            if DemandSearch.objects.filter(library=library).exists():
                continue
            rng = random.Random(f"demand:{library.code}:{today.isoformat()}")
            sites = list(Site.objects.filter(library=library, is_active=True).order_by("code"))
            weights = [rng.uniform(0.3, 1.5) for _site in sites]
            for text, facet, popularity in SOUGHT:
                if Title.objects.filter(library=library, title__icontains=text).exists():
                    continue  # the catalogue has it: a reader would have found it
                query = demand_query(text, library=library)
                clc = facet or clc_of_text(text) or (text[:1] if text[:1].isupper() else "")
                for month in _months_before(date.fromordinal(today.toordinal() - 1)):
                    at = timezone.make_aware(datetime.combine(month, time(12)), tz)
                    for site, weight in zip([None, *sites], [0.6, *weights], strict=True):
                        times = int(rng.expovariate(1 / (popularity * weight / 2)))
                        if times:
                            demand_record(
                                library=library,
                                site=site,
                                query=query.upper() if text[:1].isupper() else query,
                                outcome=DemandSearch.Outcome.NONE,
                                clc_top=clc,
                                at=at,
                                times=times,
                            )
                            counted += times
    return counted
