"""The page 待取预约书 of a site: who may open and scan it, what it lists, and the reader's page
saying where a waiting hold's copy will come from."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from circulation.models import Hold
from circulation.services.holds import hold_place
from circulation.tests.test_holds_to_pull import reader
from collections_app.models import TransferLine
from conftest import make_item


@pytest.fixture
def book(sui_consignment, sui_branch):
    return make_item(sui_consignment, sui_branch, "NL52000001", title="白鹿原", clc="I247.5")


@pytest.fixture
def waiting(sui_librarian, xiaolin_site, li, book):
    return hold_place(
        user=sui_librarian,
        patron=li,
        title=book.title,
        pickup_site=xiaolin_site,
        now=timezone.now() - timedelta(days=3),
    )


def url(site):
    return reverse("circulation:holds-to-pull", args=[site.library.code, site.code])


def test_the_librarian_sees_the_list_and_pulls_a_copy(
    client_for, sui_librarian, sui_branch, book, waiting
):
    client = client_for(sui_librarian)
    page = client.get(url(sui_branch)).content.decode()
    assert "待取预约书" in page
    for shown in ("白鹿原", book.barcode, book.call_number, "小林一中", "3 天"):
        assert shown in page, shown
    assert "李强" not in page  # the pick list needs no reader's name
    response = client.post(url(sui_branch), {"code": f" {book.barcode} "}, follow=True)
    assert "读者 李强 预约了这本书：送往取书站点“小林一中”" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.is_trapped and TransferLine.objects.filter(item=book, is_open=True).exists()
    assert book.barcode not in client.get(url(sui_branch)).content.decode()


def test_a_refused_scan_is_said_in_words(client_for, sui_librarian, sui_branch, book):
    client = client_for(sui_librarian)
    response = client.post(url(sui_branch), {"code": book.barcode}, follow=True)
    assert "没有读者在等这本书" in response.content.decode()


def test_the_desk_links_to_the_list(client_for, sui_librarian, sui_branch):
    page = client_for(sui_librarian).get(
        reverse("circulation:desk-site", args=["SUIXIAN", sui_branch.code])
    )
    assert url(sui_branch) in page.content.decode()


def test_site_staff_use_the_list_of_their_own_site_only(
    client_for, xiaolin_volunteer, xiaolin_site, sui_branch, book, waiting
):
    client = client_for(xiaolin_volunteer)
    assert client.get(url(xiaolin_site)).status_code == 200
    assert client.get(url(sui_branch)).status_code in (403, 404)
    assert client.post(url(sui_branch), {"code": book.barcode}).status_code in (403, 404)
    assert Hold.objects.get().is_waiting


@pytest.mark.parametrize("actor", ["zengdu_librarian", "hubei_reviewer", "nlc_lender"])
def test_other_libraries_and_read_only_roles_cannot_open_or_scan_it(
    request, client_for, actor, sui_branch, book, waiting
):
    client = client_for(request.getfixturevalue(actor))
    assert client.get(url(sui_branch)).status_code in (403, 404)
    assert client.post(url(sui_branch), {"code": book.barcode}).status_code in (403, 404)
    assert Hold.objects.get().is_waiting


def test_another_county_answers_404(client_for, zengdu_librarian, sui_branch):
    assert client_for(zengdu_librarian).get(url(sui_branch)).status_code == 404


def test_the_page_reads_in_english(client_for, sui_librarian, sui_branch, book, waiting):
    sui_librarian.language = "en"
    sui_librarian.save(update_fields=["language"])
    page = client_for(sui_librarian).get(url(sui_branch)).content.decode()
    assert "Holds to pull" in page and "待取预约书" not in page
    assert "3 days" in page


def test_the_readers_page_says_where_the_copy_will_be_fetched_from(
    client_for, sui_librarian, li, sui_branch, waiting
):
    page = client_for(sui_librarian).get(reverse("circulation:patron-detail", args=[li.pk]))
    assert f"“{sui_branch.name}”架上有书，将调取送来" in page.content.decode()


def test_placing_a_hold_says_where_the_copy_will_be_fetched_from(
    client_for, sui_librarian, sui_branch, sui_central, wang, book
):
    response = client_for(sui_librarian).post(
        reverse("circulation:hold-create", args=[wang.pk]),
        {"code": book.barcode, "pickup_site": sui_central.pk},
        follow=True,
    )
    assert f"“{sui_branch.name}”架上有书，将调取送到“{sui_central.name}”" in (
        response.content.decode()
    )


def test_the_page_costs_the_same_queries_for_one_hold_or_many(
    client_for,
    sui_librarian,
    sui_consignment,
    sui_branch,
    xiaolin_site,
    book,
    waiting,
):
    client = client_for(sui_librarian)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(sui_branch)).status_code == 200
    for n in range(5):
        other = make_item(sui_consignment, sui_branch, f"NL5201{n:04}", title=f"书{n}")
        hold_place(
            user=sui_librarian,
            patron=reader(sui_branch, f"SXP{n}"),
            title=other.title,
            pickup_site=xiaolin_site,
        )
    with CaptureQueriesContext(connection) as six:
        page = client.get(url(sui_branch)).content.decode()
    assert page.count("<code>NL52") == 6
    assert len(six) == len(one)
