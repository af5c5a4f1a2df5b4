from datetime import date

import pytest
from django.urls import reverse

from collections_app.models import Consignment, Item, Library, Title
from conftest import make_item


def item_url(item):
    return reverse("collections:item-detail", args=[item.barcode])


def listed(client, **params):
    response = client.get(reverse("collections:item-list"), params)
    assert response.status_code == 200
    return [item.barcode for item in response.context["page"]]


@pytest.fixture
def items(sui_item, xiaolin_item, zengdu_item):
    return sui_item, xiaolin_item, zengdu_item


@pytest.mark.parametrize(
    "actor", ["sui_librarian", "xiaolin_volunteer", "hubei_reviewer", "nlc_lender", "superuser"]
)
def test_the_item_list_and_item_page_render_for_every_role(client_for, request, actor, items):
    client = client_for(request.getfixturevalue(actor))
    assert client.get(reverse("collections:item-list")).status_code == 200
    assert client.get(item_url(items[1])).status_code == 200


def test_a_county_librarian_lists_only_their_county(client_for, sui_librarian, items):
    assert listed(client_for(sui_librarian)) == ["NL00000001", "NL00000002"]


def test_the_volunteer_lists_only_items_at_their_site(client_for, xiaolin_volunteer, items):
    assert listed(client_for(xiaolin_volunteer)) == ["NL00000002"]


def test_the_provincial_reviewer_lists_both_counties(client_for, hubei_reviewer, items):
    assert listed(client_for(hubei_reviewer)) == ["NL00000001", "NL00000002", "NL00900001"]


def test_the_lender_lists_the_items_it_owns_and_no_others(
    client_for, nlc_lender, items, suixian, sui_central
):
    other = Library.objects.create(code="OTHER", name="另一出借馆", kind=Library.Kind.NATIONAL)
    batch = Consignment.objects.create(
        library=suixian, lender=other, reference="X-1", agreement_date=date(2022, 1, 1)
    )
    foreign = make_item(batch, sui_central, "XX00000001")
    client = client_for(nlc_lender)
    assert listed(client) == ["NL00000001", "NL00000002", "NL00900001"]
    assert client.get(item_url(foreign)).status_code == 404


def test_an_item_of_another_county_answers_404(client_for, sui_librarian, zengdu_item):
    assert client_for(sui_librarian).get(item_url(zengdu_item)).status_code == 404


def test_the_volunteer_gets_404_for_an_item_at_the_central_library(
    client_for, xiaolin_volunteer, items
):
    client = client_for(xiaolin_volunteer)
    assert client.get(item_url(items[1])).status_code == 200
    assert client.get(item_url(items[0])).status_code == 404


def test_an_unknown_barcode_answers_404(client_for, sui_librarian, db):
    assert client_for(sui_librarian).get(item_url(Item(barcode="NOPE"))).status_code == 404


def test_the_count_is_shown(client_for, sui_librarian, items):
    response = client_for(sui_librarian).get(reverse("collections:item-list"))
    assert "共 2 册" in response.content.decode()


def test_it_filters_by_status(client_for, sui_librarian, items):
    Item.objects.filter(pk=items[0].pk).update(status=Item.Status.ON_LOAN)
    assert listed(client_for(sui_librarian), status="on_loan") == ["NL00000001"]


def test_it_filters_by_clc_top_class_named_in_chinese(client_for, sui_librarian, items):
    client = client_for(sui_librarian)
    assert listed(client, clc="I") == ["NL00000002"]
    html = client.get(reverse("collections:item-list")).content.decode()
    assert "I 文学" in html


def test_an_isbn_10_with_hyphens_finds_the_isbn_13_item(client_for, sui_librarian, items):
    Title.objects.filter(pk=items[1].title_id).update(isbn="9787506365437")
    client = client_for(sui_librarian)
    assert listed(client, isbn="7-5063-6543-X") == ["NL00000002"]
    assert listed(client, isbn="978-7-5063-6543-7") == ["NL00000002"]


def test_it_filters_by_exact_barcode_and_by_words_of_the_title(client_for, sui_librarian, items):
    client = client_for(sui_librarian)
    assert listed(client, barcode="NL00000002") == ["NL00000002"]
    assert listed(client, barcode="NL0000000") == []
    assert listed(client, title="活") == ["NL00000002"]


def test_site_and_consignment_choices_are_limited_to_the_scope(
    client_for, xiaolin_volunteer, items, zengdu_consignment
):
    response = client_for(xiaolin_volunteer).get(reverse("collections:item-list"))
    form = response.context["filter"].form
    assert [site.code for site in form.fields["site"].queryset] == ["xiaolin"]
    assert [c.reference for c in form.fields["consignment"].queryset] == ["NLC-2021-SX"]


def test_a_site_outside_the_scope_is_an_invalid_choice(client_for, sui_librarian, items):
    site = items[2].current_site
    response = client_for(sui_librarian).get(reverse("collections:item-list"), {"site": site.pk})
    assert response.status_code == 200
    assert "site" in response.context["filter"].errors


@pytest.mark.parametrize(
    "params",
    [{"status": "bogus"}, {"isbn": "12345"}, {"site": "abc"}, {"clc": "??"}, {"page": "x"}],
)
def test_garbage_filter_values_show_an_error_not_a_500(client_for, sui_librarian, items, params):
    response = client_for(sui_librarian).get(reverse("collections:item-list"), params)
    assert response.status_code == 200
    if "page" not in params:
        assert response.context["filter"].errors
        assert 'role="alert"' in response.content.decode()


def test_the_list_does_not_query_per_row(
    client_for, sui_librarian, sui_consignment, sui_central, django_assert_max_num_queries
):
    for n in range(20):
        make_item(sui_consignment, sui_central, f"NL1000{n:04d}")
    client = client_for(sui_librarian)
    with django_assert_max_num_queries(12):
        assert len(listed(client)) == 20


def test_the_item_page_shows_bibliographic_data_and_history(client_for, sui_librarian, sui_item):
    sui_item.events.create(
        library=sui_item.library,
        kind="received",
        to_status="available",
        to_site=sui_item.current_site,
        user=sui_librarian,
    )
    html = client_for(sui_librarian).get(item_url(sui_item)).content.decode()
    assert "乡土中国" in html and "中华书局" in html and "9787101066418" in html
    assert "验收入藏" in html and "随县馆员" in html
    assert "NLC-2021-SX" in html and "国家图书馆" in html
