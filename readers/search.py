"""The public catalogue's search: what a reader types, the titles that match, in what order, and
the facets beside them.

One text box finds titles by any part of their title, their pinyin (full or initials), author or
publisher; an ISBN (10 or 13 digits, hyphens or not) finds its editions and a CLC class number its
subclasses (I24 → I247.5). Ranking: how well the title matches, then whether a copy is on the
shelf at the reader's home site, then anywhere in the library.

On PostgreSQL the text match goes through the trigram index on the column `catalogue_text` that
migration readers.0001_catalogue_search_text adds and keeps filled: the title, its pinyin, author
and publisher, each Chinese character written three times so that a two-character word is a
trigram; `index_pattern` writes a query to match it. SQLite (the demo) scans with LIKE.

On PostgreSQL one statement finds the titles and counts each one's copies beside it, from the
index on the copies' (title, site, status) alone: no copy's row is read to rank or facet a search
(`_found_with_copies`). SQLite asks the same in three ORM queries (`_copies`).
"""

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
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


def field_choices() -> list[tuple[str, str]]:
    """The search box's field menu, in the page's language."""
    labels = {
        "any": _("全部"),
        "title": _("题名"),
        "author": _("责任者"),
        "publisher": _("出版者"),
        "isbn": _("ISBN"),
        "clc": _("分类号"),
    }
    return [(value, labels[value]) for value in FIELDS]


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


def _caseless_word(term: str) -> bool:
    # Chinese (or another script without case) only: each of its characters is tripled in the
    # search column, and no change of case can make or unmake a match.
    return len(term) > 1 and all(unicodedata.category(char) == "Lo" for char in term)


def index_pattern(term: str) -> tuple[str, str]:
    """The operator and pattern the search column is matched with for `term`.

    A Chinese word is sought by the places where one of its characters meets the next: 红楼梦 as
    %红红楼%楼楼梦%. In the tripled column 红红楼 occurs exactly where 红 is followed by 楼, so
    each piece is as selective as its pair of characters, and pg_trgm looks up one trigram for
    it. The whole tripled word (红红红楼楼楼梦梦梦) also had it look up 红红红 and 楼楼楼, which
    every title with a 红 or a 楼 holds: most of the index time of a two-character search went
    there. The pieces may match apart; the exact match on the title's own columns
    (_term_filter) stays beside this one."""
    if _caseless_word(term):
        pieces = (term[n] * 2 + term[n + 1] for n in range(len(term) - 1))
        return "LIKE", "%" + "%".join(pieces) + "%"
    return "ILIKE", _like(tripled(term))


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
            operator, pattern = index_pattern(term)
            titles = titles.filter(
                RawSQL(f"{SEARCH_COLUMN} {operator} %s", [pattern], BooleanField())
            )
        titles = titles.filter(_term_filter(term, wants))
    return titles


def relevance(match: Match, title: str, pinyin: str, initials: str) -> int:
    """0 the title itself (or its pinyin), 1 a title that starts so, 2 one that holds it, 3 a
    match in its author or publisher only."""
    return ranker(match)(title, pinyin, initials)


def ranker(match: Match):
    """`relevance` for one query, its text worked out once for the up to MATCH_LIMIT titles."""
    if match.kind != "text":
        return lambda title, pinyin, initials: 0
    text = match.value.upper()
    spelled = query_pinyin(match.value)

    def rank(title: str, pinyin: str, initials: str) -> int:
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

    return rank


def held_copies(library: Library) -> QuerySet:
    """The copies the public catalogue shows: in service, in this library."""
    return Item.objects.filter(library=library).exclude(status__in=Item.OUT_OF_SERVICE)


def shelf_copies(library: Library) -> QuerySet:
    """Copies a reader could take off a shelf now: available, and not kept for someone's hold."""
    kept = Hold.objects.filter(item=OuterRef("pk"), status=Hold.Status.TRAPPED)
    return Item.objects.filter(library=library, status=Item.Status.AVAILABLE).exclude(Exists(kept))


def matching_titles(
    library: Library, query: CatalogueQuery, match: Match, *, held: bool = True
) -> QuerySet:
    """The library's titles that the query finds, facets applied, not yet ordered. Only titles
    with a copy in service, unless `held` is False: then the caller checks that itself."""
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
    # Not held_copies(library): the titles are the library's, and so is every copy of them
    # (check_integrity proves it), so the index on (title, site, status) answers alone.
    copies = Item.objects.in_service().filter(title=OuterRef("pk"))
    if query.site is not None:
        titles = titles.filter(
            Exists(copies.filter(current_site=query.site).exclude(status=Item.Status.IN_TRANSIT))
        )
    elif held:
        titles = titles.filter(Exists(copies))
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


# What the search reads of each matched title: enough to rank it, count it in the class facet
# and show it on the page without a second query.
FOUND = ("pk", "title", "title_pinyin", "title_initials", "clc_top",
         "responsibility", "publisher", "year", "clc", "isbn")  # fmt: skip
SHOWN = ("id", "title", "responsibility", "publisher", "year", "clc", "isbn")


def search(library: Library, query: CatalogueQuery, *, page: int = 1) -> SearchResult:
    match = understand(query)
    result = SearchResult(query=query, match=match, page=max(page, 1))
    if match.kind == "none" or match.invalid:
        return result
    if connection.vendor == "postgresql":
        found, copies = _found_with_copies(library, query, match)
    else:
        found = list(
            matching_titles(library, query, match).order_by().values_list(*FOUND)[: MATCH_LIMIT + 1]
        )
        copies = None
    result.more = len(found) > MATCH_LIMIT
    found = found[:MATCH_LIMIT]
    result.total = len(found)
    if not result.total:
        return result
    if copies is None:
        copies = _copies(library, [row[0] for row in found], query.home)
    home_shelf = copies["home_shelf"]
    shelf = copies["shelf"]
    rank = ranker(match)
    order = sorted(
        found,
        key=lambda row: (
            rank(row[1], row[2], row[3]),
            row[0] not in home_shelf,
            row[0] not in shelf,
            row[1],
            row[0],
        ),
    )
    result.page = min(result.page, result.pages)
    start = (result.page - 1) * PAGE_SIZE
    result.titles = [_shown_title(row) for row in order[start : start + PAGE_SIZE]]
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


def _shown_title(row: tuple) -> Title:
    """A Title of a found row, as if loaded with only() the columns the result page shows."""
    values = dict(zip(FOUND, row, strict=True))
    values["id"] = values.pop("pk")
    names = [f.attname for f in Title._meta.concrete_fields if f.attname in SHOWN]
    return Title.from_db(connection.alias, names, [values[name] for name in names])


def _found_with_copies(library: Library, query: CatalogueQuery, match: Match):
    """PostgreSQL: the found rows and their copies (as _copies counts them) in one statement.

    The match is the ORM's (matching_titles, without its own check for a copy in service);
    beside each title it finds, a lateral count reads that title's copies from the index on
    (title, site, status) alone, and a title with none is passed over, so the copies are read
    once, by the statement that stops at the MATCH_LIMIT-th title."""
    titles = matching_titles(library, query, match, held=False).order_by().values_list(*FOUND)
    try:
        sql, params = titles.query.sql_with_params()
    except EmptyResultSet:  # a query that cannot match (`%` has no pinyin): no statement
        return [], {}
    home_id = query.home.pk if query.home is not None else None
    item, hold = Item._meta.db_table, Hold._meta.db_table
    columns = ", ".join(f"f{n}" for n in range(len(FOUND)))
    statement = f"""
        SELECT {columns}, c.held, c.shelf - k.kept, c.home_shelf - k.home_kept, c.sites
        FROM ({sql}) AS found ({columns})
        CROSS JOIN LATERAL (
            SELECT count(*) AS held,
                count(*) FILTER (WHERE i.status = %s) AS shelf,
                count(*) FILTER (WHERE i.status = %s AND i.current_site_id = %s) AS home_shelf,
                array_agg(DISTINCT i.current_site_id) FILTER (WHERE i.status <> %s) AS sites
            FROM {item} i
            WHERE i.title_id = found.f0 AND i.status <> ALL(%s)
        ) AS c
        CROSS JOIN LATERAL (
            SELECT count(*) AS kept, count(*) FILTER (WHERE i.current_site_id = %s) AS home_kept
            FROM {hold} h JOIN {item} i ON i.id = h.item_id
            WHERE h.library_id = %s AND h.title_id = found.f0 AND h.status = %s
                AND i.status = %s
        ) AS k
        WHERE c.held > 0
        LIMIT %s"""
    available, in_transit = Item.Status.AVAILABLE, Item.Status.IN_TRANSIT
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            [*params, available, available, home_id, in_transit, list(Item.OUT_OF_SERVICE),
             home_id, library.pk, Hold.Status.TRAPPED, available, MATCH_LIMIT + 1],
        )  # fmt: skip
        rows = cursor.fetchall()
    found, held, shelf, home_shelf, titles_at_site = [], {}, {}, {}, Counter()
    width = len(FOUND)
    for row in rows[:MATCH_LIMIT]:
        title_id = row[0]
        found.append(row[:width])
        held[title_id], on_shelf, at_home, sites = row[width:]
        if on_shelf:
            shelf[title_id] = on_shelf
        if at_home:
            home_shelf[title_id] = at_home
        titles_at_site.update(sites or ())
    found += [row[:width] for row in rows[MATCH_LIMIT:]]
    copies = {"held": held, "shelf": shelf, "home_shelf": home_shelf,
              "titles_at_site": titles_at_site}  # fmt: skip
    return found, copies


def _copies(library: Library, title_ids: list[int], home: Site | None) -> dict[str, dict]:
    """Of the titles `title_ids`: copies on a shelf at the home site and anywhere, copies held,
    and how many of the titles each site holds (not counting copies in transit).

    Counted by the database, a row per title and a row per site rather than a row per copy,
    from the index on the copies' (title, site, status) alone (as in matching_titles); the
    few copies kept on a shelf for a reader's hold are then taken off the shelf counts."""
    copies = Item.objects.in_service().filter(title_id__in=title_ids).order_by()
    on_shelf = Q(status=Item.Status.AVAILABLE)
    # Counted by title_id, never null: a column of the index, where the id would read the row.
    per_title = copies.values("title_id").annotate(
        held=Count("title_id"),
        shelf=Count("title_id", filter=on_shelf),
        home_shelf=Count("title_id", filter=on_shelf & Q(current_site=home)),
    )
    per_site = (
        copies.exclude(status=Item.Status.IN_TRANSIT)
        .values("current_site_id")
        .annotate(titles=Count("title_id", distinct=True))
    )
    kept = Hold.objects.filter(
        title_id__in=title_ids,
        library=library,
        status=Hold.Status.TRAPPED,
        item__status=Item.Status.AVAILABLE,
    ).values_list("title_id", "item__current_site_id")
    summary = {"home_shelf": {}, "shelf": {}, "held": {}}
    for row in per_title.values_list("title_id", "held", "shelf", "home_shelf"):
        title_id, summary["held"][title_id], shelf, home_shelf = row
        if shelf:
            summary["shelf"][title_id] = shelf
        if home_shelf:
            summary["home_shelf"][title_id] = home_shelf
    home_id = home.pk if home is not None else None
    for title_id, site_id in kept:
        for name in ("shelf", "home_shelf") if site_id == home_id else ("shelf",):
            summary[name][title_id] -= 1
            if not summary[name][title_id]:
                # Titles with no copy on a shelf are left out: the order asks `in`.
                del summary[name][title_id]
    summary["titles_at_site"] = dict(per_site.values_list("current_site_id", "titles"))
    return summary


def _clc_facets(tops) -> list[Facet]:
    from collections_app.models import clc_top_names

    names = clc_top_names()
    counts = Counter(top for top in tops if top)
    return [
        Facet(top, names.get(top, top), n)
        for top, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _site_facets(titles_at_site: dict[int, int]) -> list[Facet]:
    sites = Site.objects.filter(pk__in=titles_at_site, is_active=True).order_by()
    return sorted(
        (
            Facet(code, name, titles_at_site[pk])
            for pk, code, name in sites.values_list("pk", "code", "name")
        ),
        key=lambda facet: (-facet.count, facet.value),
    )
