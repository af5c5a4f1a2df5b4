"""Pages in English punctuate in English: site and consignment choices, the item page's
publisher and year, the pick list's counts, a service's list of problems. The Chinese pages keep
their full-width marks."""

import pytest
from django.urls import reverse
from django.utils import translation

from collections_app.errors import Problem
from collections_app.services.transfers import transfer_add_items, transfer_create
from conftest import make_item

pytestmark = pytest.mark.django_db


def english(client_for, user):
    user.language = "en"
    user.save(update_fields=["language"])
    return client_for(user)


def test_site_choices_join_name_and_kind_in_the_pages_language(
    client_for, sui_librarian, sui_central, xiaolin_site
):
    url = reverse("collections:transfer-new")
    assert "随县图书馆总馆（总馆）" in client_for(sui_librarian).get(url).content.decode()
    page = english(client_for, sui_librarian).get(url).content.decode()
    assert "随县图书馆总馆 (Central library)" in page
    assert "（" not in page


def test_consignment_choices_name_the_library_in_brackets_of_the_pages_language(
    client_for, sui_librarian, sui_item
):
    url = reverse("collections:item-list")
    reference = sui_item.consignment.reference
    assert f"{reference}（随县图书馆）" in client_for(sui_librarian).get(url).content.decode()
    page = english(client_for, sui_librarian).get(url).content.decode()
    assert f"{reference} (随县图书馆)" in page and "（" not in page


def test_the_item_page_joins_publisher_and_year_in_the_pages_language(
    client_for, sui_librarian, sui_item
):
    url = reverse("collections:item-detail", args=[sui_item.barcode])
    assert "中华书局，2013" in client_for(sui_librarian).get(url).content.decode()
    page = english(client_for, sui_librarian).get(url).content.decode()
    assert "中华书局, 2013" in page and "，2013" not in page


def test_the_pick_list_counts_a_groups_lines_in_the_pages_brackets(
    client_for, sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    books = [make_item(sui_consignment, sui_central, f"NL4000000{n}") for n in range(2)]
    draft = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )
    transfer_add_items(user=sui_librarian, transfer=draft, items=books)
    url = reverse("collections:transfer-pick-list", args=[draft.pk])
    assert "（2）" in client_for(sui_librarian).get(url).content.decode()
    page = english(client_for, sui_librarian).get(url).content.decode()
    assert "(2)" in page and "（" not in page


def test_a_problem_reads_with_the_languages_colon():
    problem = Problem("第 3 站", "请填写停留天数或停留至借出次数")
    assert str(problem) == "第 3 站：请填写停留天数或停留至借出次数"
    with translation.override("en"):
        assert str(Problem("Stop 3", "fill in the days")) == "Stop 3: fill in the days"
