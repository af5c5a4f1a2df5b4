"""The catalogue's searches that count as readers' unmet demand (读者需求): what is counted, under
which site and class, and that nothing of the reader who searched is kept."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from circulation.models import Hold
from collections_app.models import Item
from readers.accounts import SESSION_READER
from reports.demand import demand_query
from reports.models import DemandSearch

NONE, QUEUED = DemandSearch.Outcome.NONE, DemandSearch.Outcome.QUEUED


def search(client, catalogue, **params):
    url = reverse("readers:search", args=[catalogue.library.code])
    response = client.get(url, params)
    assert response.status_code == 200
    return response


def counted():
    return list(
        DemandSearch.objects.order_by("query", "outcome").values_list(
            "query", "outcome", "clc_top", "site__code", "searches"
        )
    )


def test_a_search_that_finds_nothing_is_counted_once_per_reader_and_half_hour(client, catalogue):
    search(client, catalogue, q="三体", home="xiaolin")
    search(client, catalogue, q="  三体 ")  # a reload, the back button: the same demand
    assert counted() == [("三体", NONE, "", "xiaolin", 1)]
    client.get(  # another reader, at another address
        reverse("readers:search", args=[catalogue.library.code]),
        {"q": "三体"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert counted() == [("三体", NONE, "", "xiaolin", 2)]
    row = DemandSearch.objects.get()
    assert row.library == catalogue.library
    assert row.month == timezone.localdate().replace(day=1)
    cache.clear()  # half an hour later
    search(client, catalogue, q="三体")
    assert counted() == [("三体", NONE, "", "xiaolin", 3)]


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
    ],
)
def test_a_crawlers_searches_are_not_readers_demand(client, catalogue, agent):
    url = reverse("readers:search", args=[catalogue.library.code])
    assert client.get(url, {"q": "三体"}, HTTP_USER_AGENT=agent).status_code == 200
    assert counted() == []


def test_a_phone_whose_name_ends_in_bot_is_a_reader(client, catalogue):
    url = reverse("readers:search", args=[catalogue.library.code])
    agent = "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 Mobile Safari/537.36"
    assert client.get(url, {"q": "三体"}, HTTP_USER_AGENT=agent).status_code == 200
    assert counted() == [("三体", NONE, "", None, 1)]


def _robots_allow(rules: str, path: str) -> bool:
    """What a crawler following RFC 9309 may fetch: the longest matching rule wins (`*` any
    characters, `$` the end), an Allow on a tie."""
    best = (-1, True)
    for line in rules.splitlines():
        field, _sep, value = line.partition(":")
        field, value = field.strip().lower(), value.strip()
        if field not in ("allow", "disallow") or not value:
            continue
        pattern = "".join(".*" if c == "*" else "$" if c == "$" else re.escape(c) for c in value)
        if re.match(pattern, path):
            rank = (len(value), field == "allow")
            best = max(best, rank)
    return best[1]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/catalogue/", True),
        ("/catalogue/SUIXIAN/", True),
        ("/catalogue/SUIXIAN/titles/12/", True),
        ("/catalogue/SUIXIAN/new/", True),
        ("/catalogue/SUIXIAN/search/?q=三体", False),
        ("/catalogue/SUIXIAN/sign-in/", False),
        ("/catalogue/SUIXIAN/account/", False),
        ("/catalogue/SUIXIAN/account/loans/3/renew/", False),
        ("/catalogue/SUIXIAN/self-service/abc/", False),
        ("/desk/", False),
        ("/reports/", False),
        ("/api/v1/items/", False),
        ("/admin/", False),
    ],
)
def test_robots_txt_opens_the_titles_and_keeps_crawlers_out_of_the_rest(client, path, allowed):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert _robots_allow(response.content.decode(), path) is allowed


def test_a_search_that_finds_a_title_on_the_shelf_is_not_counted(client, catalogue):
    search(client, catalogue, q="红楼梦")
    search(client, catalogue, q="hlm")
    assert counted() == []


def test_the_class_of_what_was_sought_is_inferred_when_it_can_be(client, catalogue):
    search(client, catalogue, q="Q94")  # a CLC number nobody holds
    search(client, catalogue, q="中国历史")  # a class name in the text
    search(client, catalogue, q="量子力学", clc="O")  # the class facet chosen
    search(client, catalogue, q="不存在的书")  # nothing to go by
    assert {q: clc for q, _o, clc, _s, _n in counted()} == {
        "Q94": "Q",
        "中国历史": "K",
        "量子力学": "O",
        "不存在的书": "",
    }


@pytest.mark.parametrize(
    "text",
    [
        "11010519491231002X",  # a resident identity number, with its check character
        "110105 19491231 002x",
        "13812345678",  # a mobile telephone number
        "138-1234-5678",
        "SX900001",  # a reader's card number
        "reader@example.com",
    ],
)
def test_queries_that_look_like_personal_numbers_are_not_counted(client, catalogue, reader, text):
    search(client, catalogue, q=text)
    assert counted() == []
    assert demand_query(text, library=catalogue.library) is None


def test_an_isbn_found_nowhere_is_counted_and_long_text_is_cut(client, catalogue):
    search(client, catalogue, q="978-7-5442-5399-4")
    search(client, catalogue, q="长" * 90)
    queries = [q for q, *_rest in counted()]
    assert queries == ["9787544253994", "长" * 64]


def test_nothing_of_the_reader_who_searched_is_stored(client, catalogue, reader):
    session = client.session
    session[SESSION_READER] = reader.pk
    session.save()
    search(client, catalogue, q="三体", REMOTE_ADDR="203.0.113.9")
    row = DemandSearch.objects.values().get()
    row.pop("id")
    month = timezone.localdate().replace(day=1)
    # Every column the row has, and nothing in them but what was sought, where and when.
    assert row == {
        "key": f"{catalogue.library.pk}||{month:%Y-%m}||none||三体",
        "library_id": catalogue.library.pk,
        "site_id": None,  # no home site was chosen; the session's reader is not signed in
        "month": month,
        "clc_top": "",
        "query": "三体",
        "outcome": NONE,
        "title_id": None,
        "searches": 1,
    }
    assert reader.card_number not in str(row) and "203.0.113.9" not in str(row)


def test_a_signed_in_readers_home_site_is_the_site_when_none_was_chosen(client, catalogue, reader):
    session = client.session
    session[SESSION_READER] = reader.pk
    session.save()
    # Without a PIN the session is not a signed-in reader: the search counts under no site.
    search(client, catalogue, q="三体")
    reader.pin = "x"  # any hash: current_reader compares its fingerprint with the session's
    reader.save()
    from readers.accounts import SESSION_PIN, _pin_fingerprint

    session = client.session
    session[SESSION_READER] = reader.pk
    session[SESSION_PIN] = _pin_fingerprint(reader)
    session.save()
    search(client, catalogue, q="三体")
    assert counted() == [("三体", NONE, "", None, 1), ("三体", NONE, "", "xiaolin", 1)]


def test_titles_all_out_with_readers_queueing_count_as_queued_demand(client, catalogue, reader):
    for copy in Item.objects.filter(title=catalogue.living):
        copy.status = Item.Status.ON_LOAN
        copy.save(update_fields=["status"])
    search(client, catalogue, q="活着", home="xiaolin")
    assert counted() == []  # out on loan, but nobody waits: not unmet demand yet
    now = timezone.now()
    Hold.objects.create(
        library=catalogue.library,
        patron=reader,
        title=catalogue.living,
        pickup_site=catalogue.xiaolin,
        placed_at=now,
        expires_at=now + timedelta(days=90),
    )
    search(client, catalogue, q="活着", home="xiaolin")
    search(client, catalogue, q="活着", home="xiaolin", page="2")  # a later page: not again
    assert counted() == [("活着", QUEUED, "I", "xiaolin", 1)]
    assert DemandSearch.objects.get().title == catalogue.living


def test_a_card_number_with_few_digits_is_known_as_one_and_not_counted(client, catalogue, reader):
    reader.card_number = "LSZ-A7"
    reader.save(update_fields=["card_number"])
    search(client, catalogue, q="lsz-a7")
    search(client, catalogue, q="LSZ-A8")  # nobody's card: counted as what it looks like
    assert [q for q, *_rest in counted()] == ["lsz-a8"]
