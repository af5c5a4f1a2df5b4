"""Which catalogue searches tell the NLC what readers want (读者需求): those that found nothing,
and those whose titles are all out on loan with readers already queueing for them. They are
counted by reports.demand without anything of the reader who searched."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.lockouts import client_address
from circulation.models import Hold
from collections_app.importing.clc import normalise_clc
from collections_app.models import Library, Site, clc_top_class
from reports.demand import clc_of_text, demand_query, demand_record_quietly
from reports.models import DemandSearch

from .search import SearchResult, normalise_text


def search_outcome(result: SearchResult, *, page: int = 1) -> tuple[str, object] | None:
    """(outcome, the queued title or None) when the search counts as unmet demand, else None.
    Only the first page asked for counts, so paging through results is not counted again."""
    match = result.match
    if match.kind == "none" or match.invalid or page != 1:
        return None
    if result.total == 0:
        return DemandSearch.Outcome.NONE, None
    if result.available_count:
        return None
    # No copy of any title found is on a shelf: demand is unmet when readers queue for them.
    shown = {title.pk: title for title in result.titles}
    queued = (
        Hold.objects.waiting()
        .filter(title_id__in=list(shown))
        .order_by("placed_at")
        .values_list("title_id", flat=True)
    )
    first = next(iter(queued), None)
    if first is None:
        return None
    return DemandSearch.Outcome.QUEUED, shown[first]


def sought_class(result: SearchResult, title=None) -> str:
    """The top CLC class of what was sought, when it can be told: the class number searched
    for, the class facet chosen, the class of the queued title, or a class name in the text."""
    match, query = result.match, result.query
    if match.kind == "clc":
        return clc_top_class(normalise_clc(match.value))
    if query.clc:
        return query.clc
    if title is not None and getattr(title, "clc", ""):
        return clc_top_class(title.clc)
    if result.clc_facets and len(result.clc_facets) == 1:
        return result.clc_facets[0].value
    if match.kind == "text":
        return clc_of_text(match.value)
    return ""


# Crawlers that say who they are (the catalogue's robots.txt already keeps the polite ones out
# of its searches): "Googlebot/2.1", "bingbot/2.0", "Baiduspider", "Sogou web spider" — not a
# phone named "CUBOT X30".
CRAWLER = re.compile(r"bot[/;)]|\bbot\b|spider|crawl|slurp|bingpreview|facebookexternalhit", re.I)
# The same search again from the same address within this time is the same demand: a reload,
# the back button, a second look at an empty result.
REPEAT_SECONDS = 30 * 60


def _first_asking(request, library: Library, site: Site | None, text: str) -> bool:
    """Whether `request` is a person asking `text` for the first time in REPEAT_SECONDS. What
    is remembered, for half an hour in the cache, is a keyed hash of the address and the
    question (HMAC with the site's secret key and the day): it cannot be turned back into an
    address by trying them all, and is no use the next day. With a database cache
    (DJANGO_CACHE_URL=dbcache://) the row lives in the database until the cache culls it."""
    if CRAWLER.search(request.META.get("HTTP_USER_AGENT", "")):
        return False
    asked = f"{client_address(request)}|{library.pk}|{getattr(site, 'pk', '')}|{text}"
    digest = salted_hmac(f"readers.demand.{timezone.localdate().isoformat()}", asked).hexdigest()
    return cache.add(f"demand-asked:{digest}", 1, REPEAT_SECONDS)


def record_search(
    library: Library,
    result: SearchResult,
    *,
    site: Site | None,
    page: int = 1,
    request=None,
) -> str | None:
    """Count `result` (of the `page` asked for) when it is unmet demand; the outcome counted,
    or None. With the `request`, a crawler's search and a repeat within REPEAT_SECONDS are not
    counted."""
    outcome = search_outcome(result, page=page)
    if outcome is None:
        return None
    kind, title = outcome
    match = result.match
    # An ISBN or a class number is counted as the catalogue understood it (ISBN-13, I24).
    sought = match.value if match.kind in ("isbn", "clc") else result.query.text
    text = demand_query(normalise_text(sought), library=library)
    if text is None:
        return None
    if match.kind in ("isbn", "clc"):
        text = text.upper()
    if request is not None and not _first_asking(request, library, site, f"{kind}|{text}"):
        return None
    demand_record_quietly(
        library=library,
        site=site,
        query=text,
        outcome=kind,
        clc_top=sought_class(result, title),
        title=title,
    )
    return kind
