"""The public catalogue: pages anyone may open, no sign-in, one county library per address.

The reader's home site (their service point) is chosen on the page and kept in a cookie for
now; reader accounts will carry it once readers sign in."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from . import selectors
from .accounts import current_reader
from .demand import record_search
from .search import MAX_QUERY, CatalogueQuery, search
from .throttle import search_allowed

HOME_COOKIE = "catalogue_home"
HOME_COOKIE_AGE = 365 * 24 * 60 * 60


def _public_sites(request, library):
    """The library's public sites, read once per request: the home picker lists them, and the
    home site and a ?site= are looked up among them."""
    sites = getattr(request, "_catalogue_sites", None)
    if sites is None:
        sites = request._catalogue_sites = list(selectors.public_sites(library))
    return sites


def _home_site(request, library):
    """The site chosen in ?home= (kept in the cookie), else the cookie's, else none."""
    sites = {site.code: site for site in _public_sites(request, library)}
    chosen = request.GET.get("home")
    if chosen is not None:
        return sites.get(chosen), True
    stored = request.COOKIES.get(HOME_COOKIE, "")
    library_code, _sep, site_code = stored.partition(".")
    if library_code == library.code:
        return sites.get(site_code), False
    return None, False


def _render(request, library, home, changed, template, context, status=200):
    context = {
        "library": library,
        "home": home,
        "sites": _public_sites(request, library),
        **context,
    }
    response = render(request, template, context, status=status)
    if changed:
        if home is None:
            response.delete_cookie(HOME_COOKIE)
        else:
            response.set_cookie(
                HOME_COOKIE,
                f"{library.code}.{home.code}",
                max_age=HOME_COOKIE_AGE,
                samesite="Lax",
                httponly=True,
                secure=request.is_secure(),
            )
    return response


def _site_param(request, library, name="site"):
    code = request.GET.get(name, "")
    if not code:
        return None
    return next((site for site in _public_sites(request, library) if site.code == code), None)


def _listed_site(request, library, home_site):
    """The site a list is for: ?site=CODE, ?site=all for the whole library, else the home site."""
    if request.GET.get("site") == "all":
        return None
    return _site_param(request, library) or home_site


def _page_number(request) -> int:
    try:
        return min(max(int(request.GET.get("page", "1")), 1), 10_000)
    except ValueError:
        return 1


@require_GET
def libraries(request):
    return render(request, "readers/libraries.html", {"libraries": selectors.catalogue_libraries()})


@require_GET
def home(request, library):
    library = selectors.get_catalogue_library(library)
    home_site, changed = _home_site(request, library)
    return _render(
        request,
        library,
        home_site,
        changed,
        "readers/home.html",
        {
            "arrivals": selectors.new_arrivals(library, home_site)[:5],
            "popular": selectors.popular(library, home_site)[:5],
        },
    )


@require_GET
def search_page(request, library):
    library = selectors.get_catalogue_library(library)
    home_site, changed = _home_site(request, library)
    query = CatalogueQuery(
        text=request.GET.get("q", "")[: MAX_QUERY * 2],
        field=request.GET.get("field", "any"),
        clc=request.GET.get("clc", "")[:1].upper(),
        site=_site_param(request, library),
        available=request.GET.get("available") == "1",
        home=home_site,
    )
    context = {"query": query, "result": None}
    if query.is_empty:
        return _render(request, library, home_site, changed, "readers/search.html", context)
    allowed, wait = search_allowed(request)
    if not allowed:
        context["wait"] = wait
        response = _render(
            request, library, home_site, changed, "readers/search.html", context, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    page = _page_number(request)
    context["result"] = search(library, query, page=page)
    # What was sought and not found is counted for the 读者需求 report, not who sought it.
    demand_site = home_site
    if demand_site is None and (reader := current_reader(request, library)) is not None:
        demand_site = reader.home_site
    record_search(library, context["result"], site=demand_site, page=page, request=request)
    _link_titles(library, context["result"].titles)
    _count_copies_in_words(context["result"].titles, home_site)
    return _render(request, library, home_site, changed, "readers/search.html", context)


def _link_titles(library, titles):
    """Each title's page as `title.href`: reversed once for the page's twenty titles."""
    head, _sep, tail = reverse("readers:title", args=[library.code, 0]).rpartition("/0/")
    for title in titles:
        title.href = f"{head}/{title.pk}/{tail}"


def _count_copies_in_words(titles, home):
    """Each title's copies as the page words them (`title.copies_text`), translated here: three
    {% blocktranslate %} tags a row were a third of the page's rendering. As those tags did, the
    site's name is escaped and the translation is not."""
    for title in titles:
        copies = title.copies
        title.copies_text = {
            "home": mark_safe(
                ngettext("%(site)s在架 %(n)s 册", "%(site)s在架 %(n)s 册", copies["home"])
                % {"site": conditional_escape(home.name), "n": copies["home"]}
            )
            if home and copies["home"]
            else "",
            "shelf": mark_safe(
                ngettext("全馆在架 %(n)s 册", "全馆在架 %(n)s 册", copies["shelf"])
                % {"n": copies["shelf"]}
            ),
            "held": mark_safe(
                ngettext("共 %(n)s 册", "共 %(n)s 册", copies["held"]) % {"n": copies["held"]}
            ),
        }


@require_GET
def title_detail(request, library, pk):
    library = selectors.get_catalogue_library(library)
    home_site, changed = _home_site(request, library)
    title = selectors.get_public_title(library, pk)
    return _render(
        request,
        library,
        home_site,
        changed,
        "readers/title.html",
        {"title": title, "copies": selectors.title_copies(library, title, home_site)},
    )


@require_GET
def new_arrivals(request, library):
    library = selectors.get_catalogue_library(library)
    home_site, changed = _home_site(request, library)
    site = _listed_site(request, library, home_site)
    return _render(
        request,
        library,
        home_site,
        changed,
        "readers/new_arrivals.html",
        {"site": site, "rows": selectors.new_arrivals(library, site)},
    )


@require_GET
def popular(request, library):
    library = selectors.get_catalogue_library(library)
    home_site, changed = _home_site(request, library)
    site = _listed_site(request, library, home_site)
    return _render(
        request,
        library,
        home_site,
        changed,
        "readers/popular.html",
        {"site": site, "rows": selectors.popular(library, site)},
    )
