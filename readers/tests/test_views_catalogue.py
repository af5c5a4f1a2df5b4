"""The public catalogue's pages, as an anonymous visitor opens them."""

from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from collections_app.models import Display, Item, ItemEvent
from readers.views import HOME_COOKIE


def url(name, catalogue, *args):
    return reverse(f"readers:{name}", args=[catalogue.library.code, *args])


def test_the_pages_open_without_signing_in(client, catalogue):
    for page in [
        reverse("readers:libraries"),
        url("home", catalogue),
        url("search", catalogue),
        url("search", catalogue) + "?q=hlm",
        url("title", catalogue, catalogue.hlm.pk),
        url("new-arrivals", catalogue),
        url("popular", catalogue),
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "Content-Security-Policy" in response


def test_a_search_lists_the_title_with_its_copies_on_the_shelf(client, catalogue):
    response = client.get(url("search", catalogue), {"q": "hlm", "home": "xiaolin"})
    html = response.content.decode()
    assert "红楼梦人物论" in html and "找到 2 种" in html
    assert "小林一中在架 1 册" in html
    # The home site is kept for the next page.
    assert response.cookies[HOME_COOKIE].value == "SUIXIAN.xiaolin"
    response = client.get(url("search", catalogue), {"q": "hlm"})
    assert "小林一中在架 1 册" in response.content.decode()


def test_the_pages_speak_english_when_the_reader_chooses_it(client, catalogue):
    client.cookies["django_language"] = "en"
    html = client.get(url("search", catalogue), {"q": "hlm"}).content.decode()
    assert "2 titles found" in html


def test_another_countys_title_and_an_unknown_library_are_not_found(client, catalogue):
    assert client.get(url("title", catalogue, catalogue.zengdu_hlm.pk)).status_code == 404
    assert client.get(url("title", catalogue, catalogue.gone.pk)).status_code == 404
    assert client.get(reverse("readers:home", args=["NOWHERE"])).status_code == 404
    assert client.get(reverse("readers:home", args=["NLC"])).status_code == 404


def test_a_title_page_shows_each_site_shelf_display_loan_and_transit(
    client, catalogue, sui_librarian, reader
):
    from circulation.services.loans import loan_checkout
    from collections_app.services.displays import display_create, display_place
    from collections_app.services.transfers import (
        transfer_add_items,
        transfer_create,
        transfer_dispatch,
    )

    consignment = catalogue.library.consignments.first()
    from readers.tests.conftest import make_copy

    copies = [
        make_copy(consignment, catalogue.living, catalogue.central, f"SX2000000{n}")
        for n in range(4)
    ]
    checkout = loan_checkout(
        user=sui_librarian, site=catalogue.xiaolin, barcode="SX00000004", patron=reader
    )
    display = display_create(
        user=sui_librarian, library=catalogue.library, site=catalogue.central,
        name="茅盾文学奖专架", kind=Display.Kind.SHELF, starts_on=timezone.localdate(),
    )  # fmt: skip
    display_place(user=sui_librarian, display=display, items=[copies[0]])
    transfer = transfer_create(
        user=sui_librarian, source=catalogue.central, destination=catalogue.branch,
        reason="rotation",
    )  # fmt: skip
    transfer_add_items(user=sui_librarian, transfer=transfer, items=[copies[1]])
    transfer_dispatch(user=sui_librarian, transfer=transfer)

    response = client.get(url("title", catalogue, catalogue.living.pk), {"home": "xiaolin"})
    html = response.content.decode()
    due = timezone.localtime(checkout.loan.due_at).strftime("%Y-%m-%d")
    assert f"借出 1 册，最早 {due} 到期" in html
    assert "在“茅盾文学奖专架” 1 册" in html
    assert "在途 1 册，正运往此处" in html
    assert "在架 3 册" in html  # SX00000005 and two of the new copies
    # The home site comes first; no reader, no librarian, no item history.
    listing = html[html.index('class="opac-copies"') :]
    assert listing.index("小林一中") < listing.index("随县图书馆总馆")
    for private in [reader.name, reader.card_number, sui_librarian.first_name, "SX00000004"]:
        assert private not in html


def test_new_arrivals_are_the_volumes_that_reached_a_site_lately(client, catalogue):
    item = Item.objects.get(barcode="SX00000002")
    for days, kind in [(3, ItemEvent.Kind.ARRIVED), (40, ItemEvent.Kind.RECEIVED)]:
        ItemEvent.objects.create(
            library=catalogue.library, item=item, kind=kind, to_site=catalogue.xiaolin,
            to_status="available", at=timezone.now() - timedelta(days=days),
        )  # fmt: skip
    old = Item.objects.get(barcode="SX00000006")
    ItemEvent.objects.create(
        library=catalogue.library, item=old, kind=ItemEvent.Kind.RECEIVED,
        to_site=catalogue.central, to_status="available", at=timezone.now() - timedelta(days=45),
    )  # fmt: skip
    html = client.get(url("new-arrivals", catalogue), {"site": "xiaolin"}).content.decode()
    assert "红楼梦人物论" in html
    assert (
        "乡土中国"
        not in client.get(url("new-arrivals", catalogue), {"site": "all"}).content.decode()
    )
    assert (
        "红楼梦人物论"
        not in client.get(url("new-arrivals", catalogue), {"site": "central"}).content.decode()
    )


def test_popular_counts_this_quarters_loans_at_the_readers_site(
    client, catalogue, sui_librarian, reader
):
    from circulation.services.loans import loan_checkout, loan_return

    loan_checkout(user=sui_librarian, site=catalogue.xiaolin, barcode="SX00000004", patron=reader)
    loan_return(user=sui_librarian, site=catalogue.xiaolin, barcode="SX00000004")
    loan_checkout(user=sui_librarian, site=catalogue.xiaolin, barcode="SX00000004", patron=reader)
    loan_checkout(user=sui_librarian, site=catalogue.central, barcode="SX00000006", patron=reader)
    html = client.get(url("popular", catalogue), {"home": "xiaolin"}).content.decode()
    assert "活着" in html and "本季借出 2 次" in html and "乡土中国" not in html
    html = client.get(url("popular", catalogue), {"site": "all"}).content.decode()
    assert "乡土中国" in html


def test_search_is_rate_limited_by_address(client, catalogue, settings):
    settings.CATALOGUE_SEARCH_RATE = "3/min"
    for _n in range(3):
        assert client.get(url("search", catalogue), {"q": "红楼"}).status_code == 200
    response = client.get(url("search", catalogue), {"q": "红楼"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "检索太频繁" in response.content.decode()
    other = client.get(url("search", catalogue), {"q": "红楼"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200
    # The page without a query and the title pages are not searches.
    assert client.get(url("search", catalogue)).status_code == 200


@pytest.mark.parametrize(
    "params", [{"page": "x"}, {"page": "-5"}, {"page": "99999999"}, {"clc": "红"},
               {"site": "nowhere"}, {"field": "drop table"}, {"home": "'"}, {"available": "yes"}]
)  # fmt: skip
def test_odd_parameters_answer_a_page_not_an_error(client, catalogue, params):
    response = client.get(url("search", catalogue), {"q": "红楼", **params})
    assert response.status_code == 200


PUBLIC = {"readers", "set_language", "javascript-catalog", "accounts:login",
          "accounts:password_reset", "api-schema", "api-docs", "robots-txt"}  # fmt: skip


def _every_url(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _every_url(pattern.url_patterns, prefix + str(pattern.pattern), space)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or ''}", prefix + str(pattern.pattern)


def _sample(route: str) -> str:
    import re

    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<[^>]+>", "SUIXIAN", route)
    return "/" + route.lstrip("^").rstrip("$").replace("\\Z", "")


def test_an_anonymous_visitor_reaches_nothing_of_the_staff_side(client, catalogue, sui_item):
    checked = 0
    for name, route in _every_url(get_resolver().url_patterns):
        if (
            name.split(":")[0] in PUBLIC
            or name in PUBLIC
            or "(?P" in route
            or route.startswith("admin")
        ):
            continue
        path = _sample(route)
        response = client.get(path)
        assert response.status_code in {301, 302, 401, 403, 404, 405}, (name, path)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:login")), (name, path)
        checked += 1
    assert checked > 30
    # The Django admin asks for a sign-in too.
    response = client.get("/admin/")
    assert response.status_code == 302 and "login" in response["Location"]


def _search_queries(client, catalogue, params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("search", catalogue), params)
    assert response.status_code == 200
    sites = [q for q in queries if q["sql"].startswith('SELECT "collections_app_site"."id", ')]
    assert len(sites) == 1, "the public sites are read once, for the picker and the parameters"
    return len(queries), response.content.decode()


@pytest.mark.parametrize(
    "params",
    [{"q": "红楼", "home": "xiaolin"}, {"q": "红楼", "home": "xiaolin", "site": "central"},
     {"q": "红楼", "clc": "I", "available": "1", "page": "2"}, {"q": "hlm"}]
)  # fmt: skip
def test_a_search_page_costs_the_same_queries_for_two_titles_or_a_page_of_many_over_many_sites(
    client, catalogue, sui_consignment, params
):
    from django.core.management import call_command

    from conftest import make_site

    from .conftest import make_copy, make_title

    few, html = _search_queries(client, catalogue, params)
    assert few <= 8, "the sites, the search, its facets' names and the demand count"
    for n in range(12):
        site = make_site(catalogue.library, f"point{n}", f"服务点{n}", catalogue.xiaolin.kind,
                         catalogue.branch)  # fmt: skip
        title = make_title(catalogue.library, f"红楼梦新编第{n}卷", clc=f"I{n}",
                           responsibility=f"作者{n}", publisher="红楼出版社")  # fmt: skip
        for copy in range(2):
            make_copy(
                sui_consignment, title, site if copy else catalogue.central, f"SXM{n:03d}{copy}"
            )
    many, html = _search_queries(client, catalogue, params)
    assert many == few
    # The home picker lists every site, the facets and the results those of the new titles.
    assert html.count('<option value="point') == 12
    if "clc" not in params:
        assert "红楼梦新编第11卷" in html
    call_command("check_integrity")


def test_each_result_links_to_its_title_and_words_its_copies_in_the_readers_language(
    client, catalogue
):
    catalogue.xiaolin.name = "小林<一中>"
    catalogue.xiaolin.save(update_fields=["name"])
    html = client.get(url("search", catalogue), {"q": "hlm", "home": "xiaolin"}).content.decode()
    for title in (catalogue.hlm, catalogue.hlm_notes):
        assert f'<a class="opac-title" href="{url("title", catalogue, title.pk)}">' in html
    assert '<strong class="ok">小林&lt;一中&gt;在架 1 册</strong>' in html
    assert "全馆在架 1 册" in html and "· 共 1 册" in html
    client.cookies["django_language"] = "en"
    html = client.get(url("search", catalogue), {"q": "活着", "home": "xiaolin"}).content.decode()
    assert f'href="{url("title", catalogue, catalogue.living.pk)}"' in html
    assert "1 copy on the shelf at 小林&lt;一中&gt;" in html
    assert "2 copies on the shelf in the library" in html and "· 2 items" in html


def test_every_catalogue_page_carries_the_search_boxs_field_menu(client, catalogue):
    # The sign-in page is rendered by the account views, not the catalogue's: its search box
    # had an empty field menu.
    for name in ("sign-in", "search", "home"):
        page = client.get(reverse(f"readers:{name}", args=[catalogue.library.code])).content
        menu = page.decode().split('id="opac-field"', 1)[1].split("</select>", 1)[0]
        assert menu.count("<option") == 6 and "题名" in menu, name
