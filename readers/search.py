"""The public catalogue's search: what a reader types, the titles that match, in what order, and
the facets beside them.

One text box finds titles by any part of their title, their pinyin (full or initials), author or
publisher; an ISBN (10 or 13 digits, hyphens or not) finds its editions and a CLC class number its
subclasses (I24 → I247.5). Ranking: how well the title matches, then whether a copy is on the
shelf at the reader's home site, then anywhere in the library.

On PostgreSQL the text match goes through the trigram index on the column `catalogue_text` that
migration readers.0001_catalogue_search_text adds and keeps filled: the title, its pinyin, author
and publisher, each Chinese character written three times so that a two-character word is a
trigram; `tripled` writes a query the same way. SQLite (the demo) scans with LIKE.
"""

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from stdnum import isbn as stdnum_isbn

from circulation.models import Hold
from collections_app.importing.clc import normalise_clc
from collections_app.models import Item, Library, Site, Title
from collections_app.title_keys import query_pinyin

# The column the trigram index of the search is on (PostgreSQL only).
# Unqualified: Django renames the title table in subqueries, and no other table has the column.
SEARCH_COLUMN = "catalogue_text"
_NON_ASCII = re.compile(r"([^\x01-\x7f])")
_CLC = re.compile(r"^\[?[A-Z]{1,2}\d[0-9A-Z.\-=:/\"()<>+]*$")
_ISBNISH = re.compile(r"^[0-9][0-9\-\s]{8,16}[0-9Xx]$")

# Longest query taken; longer is cut (a reader pasting a paragraph still gets an answer).
MAX_QUERY = 100
MAX_TERMS = 5
PAGE_SIZE = 20
# A search that finds more titles than this (a common word: 中国, 历史) ranks, counts and
# facets the first MATCH_LIMIT it finds and says "more than" on the page: the time of a search
# then grows with the limit, not with the size of the catalogue.
MATCH_LIMIT = 1000

FIELDS = ("any", "title", "author", "publisher", "isbn", "clc")


@dataclass
class CatalogueQuery:
    """What the reader asked: the text, which field it is (`any` works it out), the facets."""

    text: str = ""
    field: str = "any"
    clc: str = ""  # a top class letter chosen among the facets
    site: Site | None = None  # only titles with a copy at this site
    available: bool = False  # only titles with a copy on a shelf now
    home: Site | None = None  # the reader's home site, for the order

    @property
    def is_empty(self) -> bool:
        return not self.text


@dataclass
class Match:
    """How the text of a query was understood."""

    kind: str  # "text", "isbn", "clc", "none"
    value: str = ""
    terms: list[str] = field(default_factory=list)
    invalid: bool = False  # an ISBN that is not one: nothing found, and the page says why


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    return " ".join(text.replace("|", " ").split())[:MAX_QUERY]


def understand(query: CatalogueQuery) -> Match:
    text = normalise_text(query.text)
    if not text:
        return Match("none")
    wants = query.field if query.field in FIELDS else "any"
    if wants == "isbn" or (wants == "any" and _ISBNISH.match(text)):
        compact = stdnum_isbn.compact(text)
        if stdnum_isbn.is_valid(compact):
            return Match("isbn", stdnum_isbn.to_isbn13(compact))
        if wants == "isbn":
            return Match("isbn", text, invalid=True)
    clc = normalise_clc(text)
    if wants == "clc" or (wants == "any" and _CLC.match(clc)):
        return Match("clc", clc.lstrip("["))
    terms = text.split(" ")[:MAX_TERMS]
    return Match("text", text, terms=terms)


def tripled(text: str) -> str:
    """`text` as the search column holds it: each non-ASCII character three times."""
    return _NON_ASCII.sub(r"\1\1\1", text)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _term_filter(term: str, wants: str) -> Q:
    """Titles that `term` matches, in the field the reader chose."""
    spelled = query_pinyin(term)
    if wants == "author":
        return Q(responsibility__icontains=term)
    if wants == "publisher":
        return Q(publisher__icontains=term)
    in_title = Q(title__icontains=term)
    if spelled:
        in_title |= Q(title_pinyin__contains=spelled) | Q(title_initials__contains=spelled)
    if wants == "title":
        return in_title
    return in_title | Q(responsibility__icontains=term) | Q(publisher__icontains=term)


def _short_pinyin(term: str) -> bool:
    # One or two letters: too short for a trigram, and as pinyin they mean the start of a title
    # (hl → 红楼梦), which a b-tree on the initials finds.
    return term.isascii() and len(term) < 3


def _text_filter(titles: QuerySet, match: Match, wants: str) -> QuerySet:
    for term in match.terms:
        if _short_pinyin(term):
            spelled = query_pinyin(term)
            if not spelled:
                return titles.none()
            titles = titles.filter(
                Q(title_initials__startswith=spelled) | Q(title_pinyin__startswith=spelled)
            )
            continue
        if connection.vendor == "postgresql":
            titles = titles.filter(
                RawSQL(f"{SEARCH_COLUMN} ILIKE %s", [_like(tripled(term))], BooleanField())
            )
        titles = titles.filter(_term_filter(term, wants))
    return titles


def relevance(match: Match, title: str, pinyin: str, initials: str) -> int:
    """0 the title itself (or its pinyin), 1 a title that starts so, 2 one that holds it, 3 a
    match in its author or publisher only."""
    if match.kind != "text":
        return 0
    text = match.value.upper()
    spelled = query_pinyin(match.value)
    title = title.upper()
    if title == text or (spelled and spelled in (pinyin, initials)):
        return 0
    if title.startswith(text) or (
        spelled and (pinyin.startswith(spelled) or initials.startswith(spelled))
    ):
        return 1
    if text in title or (spelled and spelled in pinyin):
        return 2
    return 3


def held_copies(library: Library) -> QuerySet:
    """The copies the public catalogue shows: in service, in this library."""
    return Item.objects.filter(library=library).exclude(status__in=Item.OUT_OF_SERVICE)


def shelf_copies(library: Library) -> QuerySet:
    """Copies a reader could take off a shelf now: available, and not kept for someone's hold."""
    kept = Hold.objects.filter(item=OuterRef("pk"), status=Hold.Status.TRAPPED)
    return Item.objects.filter(library=library, status=Item.Status.AVAILABLE).exclude(Exists(kept))


def matching_titles(library: Library, query: CatalogueQuery, match: Match) -> QuerySet:
    """The library's titles that the query finds, facets applied, not yet ordered."""
    titles = Title.objects.filter(library=library)
    if match.kind == "none" or match.invalid:
        return titles.none()
    if match.kind == "isbn":
        titles = titles.filter(isbn=match.value)
    elif match.kind == "clc":
        titles = titles.filter(
            Q(clc__startswith=match.value) | Q(clc__startswith=f"[{match.value}")
        )
    else:
        titles = _text_filter(titles, match, query.field)
    held = held_copies(library).filter(title=OuterRef("pk"))
    if query.site is not None:
        held = held.filter(current_site=query.site).exclude(status=Item.Status.IN_TRANSIT)
    titles = titles.filter(Exists(held))
    if query.clc:
        titles = titles.filter(clc_top=query.clc)
    if query.available:
        on_shelf = shelf_copies(library).filter(title=OuterRef("pk"))
        if query.site is not None:
            on_shelf = on_shelf.filter(current_site=query.site)
        titles = titles.filter(Exists(on_shelf))
    return titles


@dataclass
class Facet:
    value: str
    label: str
    count: int


@dataclass
class SearchResult:
    query: CatalogueQuery
    match: Match
    total: int = 0
    page: int = 1
    titles: list = field(default_factory=list)
    clc_facets: list[Facet] = field(default_factory=list)
    site_facets: list[Facet] = field(default_factory=list)
    available_count: int = 0
    more: bool = False  # more titles match than the MATCH_LIMIT ranked and counted

    @property
    def pages(self) -> int:
        return max((self.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def search(library: Library, query: CatalogueQuery, *, page: int = 1) -> SearchResult:
    match = understand(query)
    result = SearchResult(query=query, match=match, page=max(page, 1))
    if match.kind == "none" or match.invalid:
        return result
    found = list(
        matching_titles(library, query, match)
        .order_by()
        .values_list("pk", "title", "title_pinyin", "title_initials", "clc_top")[: MATCH_LIMIT + 1]
    )
    result.more = len(found) > MATCH_LIMIT
    found = found[:MATCH_LIMIT]
    result.total = len(found)
    if not result.total:
        return result
    # Ranking, facets and counts are worked out here from the matched titles and their copies:
    # two plain queries over at most MATCH_LIMIT titles, not the text match again for each.
    copies = _copies(library, [row[0] for row in found], query.home)
    home_shelf = copies["home_shelf"]
    shelf = copies["shelf"]
    order = sorted(
        found,
        key=lambda row: (
            relevance(match, row[1], row[2], row[3]),
            row[0] not in home_shelf,
            row[0] not in shelf,
            row[1],
            row[0],
        ),
    )
    result.page = min(result.page, result.pages)
    start = (result.page - 1) * PAGE_SIZE
    page_ids = [row[0] for row in order[start : start + PAGE_SIZE]]
    rows = Title.objects.only(
        "pk", "title", "responsibility", "publisher", "year", "clc", "isbn"
    ).in_bulk(page_ids)
    result.titles = [rows[pk] for pk in page_ids]
    for row in result.titles:
        row.copies = {
            "home": home_shelf.get(row.pk, 0),
            "shelf": shelf.get(row.pk, 0),
            "held": copies["held"].get(row.pk, 0),
        }
    result.clc_facets = _clc_facets(row[4] for row in found)
    result.site_facets = _site_facets(copies["titles_at_site"])
    result.available_count = len(shelf) if not query.available else result.total
    return result


def _copies(library: Library, title_ids: list[int], home: Site | None) -> dict[str, dict]:
    """Of the titles `title_ids`: copies on a shelf at the home site and anywhere, copies held,
    and the titles each site holds (not counting copies in transit)."""
    kept = Hold.objects.filter(item=OuterRef("pk"), status=Hold.Status.TRAPPED)
    rows = (
        held_copies(library)
        .filter(title__in=title_ids)
        .annotate(kept=Exists(kept))
        .values_list("title_id", "current_site_id", "status", "kept")
    )
    home_id = home.pk if home is not None else None
    summary = {"home_shelf": {}, "shelf": {}, "held": {}, "titles_at_site": {}}
    for title_id, site_id, status, is_kept in rows:
        summary["held"][title_id] = summary["held"].get(title_id, 0) + 1
        if status != Item.Status.IN_TRANSIT:
            summary["titles_at_site"].setdefault(site_id, set()).add(title_id)
        if status == Item.Status.AVAILABLE and not is_kept:
            summary["shelf"][title_id] = summary["shelf"].get(title_id, 0) + 1
            if site_id == home_id:
                summary["home_shelf"][title_id] = summary["home_shelf"].get(title_id, 0) + 1
    return summary


def _clc_facets(tops) -> list[Facet]:
    from collections_app.models import clc_top_names

    names = clc_top_names()
    counts = Counter(top for top in tops if top)
    return [
        Facet(top, names.get(top, top), n)
        for top, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _site_facets(titles_at_site: dict[int, set]) -> list[Facet]:
    sites = Site.objects.filter(pk__in=titles_at_site, is_active=True)
    return sorted(
        (Facet(site.code, site.name, len(titles_at_site[site.pk])) for site in sites),
        key=lambda facet: (-facet.count, facet.value),
    )
