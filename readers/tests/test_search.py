"""The catalogue's search: what readers type finds what they mean, in a useful order, with
facets that add up — on SQLite here, and on PostgreSQL through the trigram index (the same
tests run there with DATABASE_URL)."""

import pytest

from collections_app.models import Item
from readers.search import CatalogueQuery, index_pattern, search
from readers.tests.conftest import make_copy, make_title


def found(catalogue, text, **query):
    result = search(catalogue.library, CatalogueQuery(text=text, **query))
    return [title.title for title in result.titles]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("红楼", {"红楼梦", "红楼梦人物论", "我读红楼"}),
        ("楼梦", {"红楼梦", "红楼梦人物论", "我读红楼"}),  # 我读红楼's author: 红楼梦学会
        ("人物", {"红楼梦人物论"}),
        ("活", {"活着"}),
        ("hongloumeng", {"红楼梦", "红楼梦人物论"}),
        ("HongLouMeng", {"红楼梦", "红楼梦人物论"}),
        ("hlm", {"红楼梦", "红楼梦人物论"}),
        ("hl", {"红楼梦", "红楼梦人物论"}),
        ("xtzg", {"乡土中国"}),
        ("费孝通", {"乡土中国"}),
        ("中华书局", {"乡土中国"}),
        ("红楼 人物", {"红楼梦人物论"}),
        ("不存在的书", set()),
    ],
)
def test_a_part_of_a_title_its_pinyin_or_initials_finds_it(catalogue, text, expected):
    assert set(found(catalogue, text)) == expected


def test_a_withdrawn_title_is_not_in_the_catalogue(catalogue):
    assert "红楼旧梦" not in found(catalogue, "红楼")


@pytest.mark.parametrize(
    "text", ["9787020002207", "978-7-02-000220-7", "702000220X", "7-02-000220-x", "7 02 000220 X"]
)
def test_an_isbn_10_or_13_with_or_without_hyphens_finds_its_title(catalogue, text):
    assert found(catalogue, text) == ["红楼梦"]
    assert found(catalogue, text, field="isbn") == ["红楼梦"]


def test_a_wrong_isbn_finds_nothing_and_says_so(catalogue):
    result = search(catalogue.library, CatalogueQuery(text="978-7-02-000220-8", field="isbn"))
    assert result.match.invalid and result.total == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I24", {"红楼梦", "活着"}),
        ("i247", {"活着"}),
        ("I2", {"红楼梦", "活着", "红楼梦人物论", "我读红楼"}),
        ("C912.82", {"乡土中国"}),
    ],
)
def test_a_clc_class_finds_its_subclasses(catalogue, text, expected):
    assert set(found(catalogue, text)) == expected
    assert set(found(catalogue, text, field="clc")) == expected


def test_a_field_limits_where_the_text_is_sought(catalogue):
    assert found(catalogue, "红楼", field="title") == ["红楼梦", "红楼梦人物论", "我读红楼"]
    assert found(catalogue, "红楼", field="author") == ["我读红楼"]
    assert found(catalogue, "红楼", field="publisher") == ["我读红楼"]


def test_the_title_itself_comes_before_titles_that_start_or_hold_it_or_only_name_it(catalogue):
    make_copy(
        catalogue.library.consignments.first(),
        make_title(catalogue.library, "A 红楼梦研究"),
        catalogue.central,
        "SX00000010",
    )
    assert found(catalogue, "红楼梦") == ["红楼梦", "红楼梦人物论", "A 红楼梦研究", "我读红楼"]
    assert found(catalogue, "hlm")[:1] == ["红楼梦"]


def test_among_equal_matches_a_copy_at_the_readers_home_site_comes_first(catalogue):
    # 红楼梦人物论 is at 小林一中, 红楼梦 at the central library: both start with 红楼.
    home = catalogue.xiaolin
    assert found(catalogue, "红楼", home=home)[:2] == ["红楼梦人物论", "红楼梦"]
    assert found(catalogue, "红楼", home=catalogue.central)[:2] == ["红楼梦", "红楼梦人物论"]
    # No longer on the shelf there: back to alphabetical order.
    Item.objects.filter(barcode="SX00000002").update(status=Item.Status.MISSING)
    make_copy(
        catalogue.library.consignments.first(), catalogue.hlm_notes, home, "SX00000011",
        status=Item.Status.DAMAGED,
    )  # fmt: skip
    assert "红楼梦人物论" not in found(catalogue, "红楼", home=home)


def test_facets_count_the_matches_by_class_site_and_shelf(catalogue, sui_librarian, reader):
    from circulation.services.loans import loan_checkout

    loan_checkout(user=sui_librarian, site=catalogue.central, barcode="SX00000001", patron=reader)
    result = search(catalogue.library, CatalogueQuery(text="红楼"))
    assert result.total == 3
    assert {(f.value, f.count) for f in result.clc_facets} == {("I", 3)}
    sites = {f.value: f.count for f in result.site_facets}
    assert sites == {"central": 1, "lijiadian": 1, "xiaolin": 1}
    # 红楼梦 is on loan: two of the three are on a shelf.
    assert result.available_count == 2

    available = search(catalogue.library, CatalogueQuery(text="红楼", available=True))
    assert {t.title for t in available.titles} == {"红楼梦人物论", "我读红楼"}
    at_branch = search(catalogue.library, CatalogueQuery(text="红楼", site=catalogue.branch))
    assert [t.title for t in at_branch.titles] == ["我读红楼"]
    poetry = search(catalogue.library, CatalogueQuery(text="I", field="clc", clc="C"))
    assert poetry.total == 0
    by_class = search(catalogue.library, CatalogueQuery(text="费孝通", clc="C"))
    assert [t.title for t in by_class.titles] == ["乡土中国"]


def test_one_countys_search_never_shows_another_countys_titles(catalogue, zengdu):
    for text in ["红楼梦", "hlm", "9787020002207", "I24"]:
        ids = {t.pk for t in search(catalogue.library, CatalogueQuery(text=text)).titles}
        assert catalogue.zengdu_hlm.pk not in ids
        zengdu_ids = {t.pk for t in search(zengdu, CatalogueQuery(text=text)).titles}
        assert zengdu_ids <= {catalogue.zengdu_hlm.pk}


@pytest.mark.parametrize(
    "text", ["%", "_", "\\", "'", "红%楼", "a" * 500, "|||", "   ", "ǎ", "\x00", "978-", "[I24"]
)
def test_odd_input_answers_without_an_error(catalogue, text):
    result = search(catalogue.library, CatalogueQuery(text=text))
    assert result.total >= 0
    assert "红楼梦" not in [t.title for t in result.titles] or text == "[I24"


def test_results_come_in_pages(catalogue):
    consignment = catalogue.library.consignments.first()
    for n in range(25):
        make_copy(
            consignment, make_title(catalogue.library, f"三国演义 第{n:02}册"), catalogue.central,
            f"SX1000{n:04}",
        )  # fmt: skip
    first = search(catalogue.library, CatalogueQuery(text="三国"))
    second = search(catalogue.library, CatalogueQuery(text="三国"), page=2)
    assert (first.total, first.pages, len(first.titles), len(second.titles)) == (25, 2, 20, 5)
    assert not {t.pk for t in first.titles} & {t.pk for t in second.titles}


def test_a_search_that_finds_more_than_the_limit_ranks_and_counts_the_first_found(
    catalogue, monkeypatch, client
):
    monkeypatch.setattr("readers.search.MATCH_LIMIT", 2)
    result = search(catalogue.library, CatalogueQuery(text="红楼"))
    assert (result.more, result.total, result.pages, len(result.titles)) == (True, 2, 1, 2)
    assert sum(f.count for f in result.clc_facets) == 2
    assert result.available_count == 2
    exact = search(catalogue.library, CatalogueQuery(text="活着"))
    assert (exact.more, exact.total) == (False, 1)

    page = client.get(f"/catalogue/{catalogue.library.code}/search/", {"q": "红楼"})
    assert "找到 2 种以上" in page.content.decode()


@pytest.mark.django_db
def test_on_postgresql_the_search_column_follows_every_change_of_a_title(catalogue):
    from django.db import connection

    from collections_app.models import Title

    if connection.vendor != "postgresql":
        pytest.skip("the search column and its trigger exist on PostgreSQL only")
    assert "水浒" not in found(catalogue, "水浒")
    Title.objects.filter(pk=catalogue.earth.pk).update(title="水浒传", title_pinyin="shuihuzhuan")
    assert found(catalogue, "水浒") == ["水浒传"]
    assert found(catalogue, "shuihu") == ["水浒传"]
    assert found(catalogue, "乡土") == []


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("红楼", ("LIKE", "%红红楼%")),
        ("红楼梦", ("LIKE", "%红红楼%楼楼梦%")),
        ("红红火火", ("LIKE", "%红红红%红红火%火火火%")),
        ("红", ("ILIKE", "%红红红%")),
        ("hlm", ("ILIKE", "%hlm%")),
        ("Python编程", ("ILIKE", "%Python编编编程程程%")),
        ("É红", ("ILIKE", "%ÉÉÉ红红红%")),  # É has a case: ILIKE
        ("50%", ("ILIKE", "%50\\%%")),
    ],
)
def test_a_chinese_word_is_sought_by_where_each_character_meets_the_next(term, expected):
    assert index_pattern(term) == expected


def test_the_pieces_of_a_word_found_apart_do_not_make_a_match(catalogue):
    consignment = catalogue.library.consignments.first()
    apart = make_title(catalogue.library, "红楼与楼梦", responsibility="梦红楼著")
    make_copy(consignment, apart, catalogue.central, "SX00000012")
    assert "红楼与楼梦" not in found(catalogue, "红楼梦")
    assert "红楼与楼梦" in found(catalogue, "楼梦")
    assert found(catalogue, "梦红楼") == ["红楼与楼梦"]


def test_a_copy_kept_for_a_readers_hold_is_not_on_the_shelf(catalogue, sui_librarian, reader):
    from circulation.services.holds import hold_place

    # 红楼梦's one copy is on the shelf at the central library, where the hold traps it.
    before = search(catalogue.library, CatalogueQuery(text="红楼梦", home=catalogue.central))
    assert before.titles[0].copies == {"home": 1, "shelf": 1, "held": 1}
    hold_place(user=sui_librarian, patron=reader, title=catalogue.hlm,
               pickup_site=catalogue.central)  # fmt: skip
    after = search(catalogue.library, CatalogueQuery(text="红楼梦", home=catalogue.central))
    assert after.titles[0].title == "红楼梦"
    assert after.titles[0].copies == {"home": 0, "shelf": 0, "held": 1}
    assert after.available_count == before.available_count - 1
    assert {f.value: f.count for f in after.site_facets} == {
        f.value: f.count for f in before.site_facets
    }
    on_shelf = search(catalogue.library, CatalogueQuery(text="红楼梦", available=True))
    assert "红楼梦" not in [t.title for t in on_shelf.titles]
