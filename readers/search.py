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
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
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


def _relevance(match: Match):
    """0 the title itself (or its pinyin), 1 a title that starts so, 2 one that holds it, 3 a
    match in its author or publisher only."""
    if match.kind != "text":
        return Value(0, output_field=IntegerField())
    text = match.value
    spelled = query_pinyin(text)
    exact = Q(title__iexact=text)
    starts = Q(title__istartswith=text)
    holds = Q(title__icontains=text)
    if spelled:
        exact |= Q(title_pinyin=spelled) | Q(title_initials=spelled)
        starts |= Q(title_pinyin__startswith=spelled) | Q(title_initials__startswith=spelled)
        holds |= Q(title_pinyin__contains=spelled)
    return Case(
        When(exact, then=Value(0)),
        When(starts, then=Value(1)),
        When(holds, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


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


def ordered(titles: QuerySet, library: Library, query: CatalogueQuery, match: Match) -> QuerySet:
    on_shelf = shelf_copies(library).filter(title=OuterRef("pk"))
    home_first = (
        Exists(on_shelf.filter(current_site=query.home))
        if query.home is not None
        else Value(False, output_field=BooleanField())
    )
    return titles.annotate(
        relevance=_relevance(match),
        at_home=home_first,
        on_shelf=Exists(on_shelf),
    ).order_by("relevance", "-at_home", "-on_shelf", "title", "pk")


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


def copies_by_title(library: Library, title_ids, home: Site | None) -> dict[int, dict]:
    """For each title: copies on a shelf at the home site, on a shelf elsewhere, and held in all."""
    summary = {pk: {"home": 0, "shelf": 0, "held": 0} for pk in title_ids}
    shelf = shelf_copies(library).filter(title__in=title_ids)
    for row in shelf.values("title", "current_site").annotate(n=Count("pk")):
        entry = summary[row["title"]]
        entry["shelf"] += row["n"]
        if home is not None and row["current_site"] == home.pk:
            entry["home"] += row["n"]
    held = held_copies(library).filter(title__in=title_ids)
    for row in held.values("title").annotate(n=Count("pk")):
        summary[row["title"]]["held"] = row["n"]
    return summary


def search(library: Library, query: CatalogueQuery, *, page: int = 1) -> SearchResult:
    match = understand(query)
    result = SearchResult(query=query, match=match, page=max(page, 1))
    if match.kind == "none" or match.invalid:
        return result
    found = list(
        matching_titles(library, query, match)
        .order_by()
        .values_list("pk", flat=True)[: MATCH_LIMIT + 1]
    )
    result.more = len(found) > MATCH_LIMIT
    result.total = min(len(found), MATCH_LIMIT)
    if not result.total:
        return result
    # Everything below works on these ids, not on the text match again.
    titles = Title.objects.filter(pk__in=found[:MATCH_LIMIT])
    result.page = min(result.page, result.pages)
    start = (result.page - 1) * PAGE_SIZE
    rows = list(
        ordered(titles, library, query, match).only(
            "pk", "title", "responsibility", "publisher", "year", "clc", "isbn"
        )[start : start + PAGE_SIZE]
    )
    copies = copies_by_title(library, [row.pk for row in rows], query.home)
    for row in rows:
        row.copies = copies[row.pk]
    result.titles = rows
    result.clc_facets = _clc_facets(titles)
    result.site_facets = _site_facets(library, titles)
    result.available_count = (
        titles.filter(Exists(shelf_copies(library).filter(title=OuterRef("pk")))).count()
        if not query.available
        else result.total
    )
    return result


def _clc_facets(titles: QuerySet) -> list[Facet]:
    from collections_app.models import clc_top_names

    names = clc_top_names()
    counts = titles.order_by().values("clc_top").annotate(n=Count("pk")).order_by("-n", "clc_top")
    return [
        Facet(row["clc_top"], names.get(row["clc_top"], row["clc_top"]), row["n"])
        for row in counts
        if row["clc_top"]
    ]


def _site_facets(library: Library, titles: QuerySet) -> list[Facet]:
    held = (
        held_copies(library)
        .exclude(status=Item.Status.IN_TRANSIT)
        .filter(title__in=titles.order_by().values("pk"))
        .values("current_site")
        .annotate(n=Count("title", distinct=True))
    )
    counts = {row["current_site"]: row["n"] for row in held}
    sites = Site.objects.filter(pk__in=counts, is_active=True)
    return sorted(
        (Facet(site.code, site.name, counts[site.pk]) for site in sites),
        key=lambda facet: (-facet.count, facet.value),
    )
