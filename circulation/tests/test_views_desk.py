"""The desk page: scans answered as JSON fragments, the actors, odd input, queries per scan."""

import pytest
from django.urls import reverse

from circulation.models import Loan
from collections_app.models import Item
from conftest import make_item

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def books(sui_consignment, xiaolin_site):
    return [make_item(sui_consignment, xiaolin_site, f"NL5000000{n}") for n in range(4)]


def scan_url(site):
    return reverse("circulation:desk-scan", args=[site.library.code, site.code])


def scan(client, site, code, card="", mode="checkout"):
    response = client.post(scan_url(site), {"mode": mode, "card": card, "code": code}, **JSON)
    assert response.status_code == 200
    return response.json()


def test_the_desk_page_opens_at_the_volunteers_site(client_for, xiaolin_volunteer, xiaolin_site):
    client = client_for(xiaolin_volunteer)
    response = client.get(reverse("circulation:desk"))
    assert response.url == reverse("circulation:desk-site", args=["SUIXIAN", "xiaolin"])
    page = client.get(response.url)
    assert page.status_code == 200
    assert "借还台 · 小林一中" in page.content.decode()


def test_a_card_then_items_check_out_and_a_refusal_is_explained(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books
):
    client = client_for(xiaolin_volunteer)
    answer = scan(client, xiaolin_site, "SX000001")
    assert answer["card"] == "SX000001" and "王芳" in answer["reader"]
    answer = scan(client, xiaolin_site, "NL50000000", card="SX000001")
    assert answer["tone"] == "ok" and "借出" in answer["message"]
    assert "NL50000000" in answer["reader"]
    Item.objects.filter(pk=books[1].pk).update(status="damaged")
    answer = scan(client, xiaolin_site, "NL50000001", card="SX000001")
    assert answer["tone"] == "error" and "损坏" in answer["message"]
    assert Loan.objects.count() == 1


def test_a_card_scanned_in_the_item_box_switches_the_reader(
    client_for, xiaolin_volunteer, xiaolin_site, wang, li
):
    client = client_for(xiaolin_volunteer)
    answer = scan(client, xiaolin_site, "SX000002", card="SX000001")
    assert answer["card"] == "SX000002" and "李强" in answer["reader"]


def test_an_item_scanned_before_a_card_asks_for_the_card(
    client_for, xiaolin_volunteer, xiaolin_site, books
):
    answer = scan(client_for(xiaolin_volunteer), xiaolin_site, "NL50000000")
    assert answer["tone"] == "warn" and "请先扫描读者证" in answer["message"]


def test_a_double_scan_of_a_checkout_makes_one_loan_and_no_error(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books
):
    client = client_for(xiaolin_volunteer)
    scan(client, xiaolin_site, "NL50000000", card="SX000001")
    answer = scan(client, xiaolin_site, "NL50000000", card="SX000001")
    assert answer["tone"] == "info" and "无需重复扫描" in answer["message"]
    assert Loan.objects.count() == 1


@pytest.mark.parametrize(
    "code",
    ["", "   ", "X" * 5000, "《活着》😀", "NL5000000０", "'; DROP TABLE item; --", "\x00\x1b[A"],
)
@pytest.mark.parametrize("mode", ["checkout", "return", "renew", "nonsense"])
def test_odd_input_is_answered_never_a_500(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books, code, mode
):
    client = client_for(xiaolin_volunteer)
    for card in ("", "SX000001", "Y" * 300):
        response = client.post(
            scan_url(xiaolin_site), {"mode": mode, "card": card, "code": code}, **JSON
        )
        assert response.status_code == 200
        assert response.json()["message"]


def test_full_width_digits_from_an_input_method_are_read_as_ascii(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books
):
    answer = scan(client_for(xiaolin_volunteer), xiaolin_site, "ＮＬ５００００００２", "SX000001")
    assert answer["tone"] == "ok"


def test_return_at_another_site_says_send_it_home(
    client_for, sui_librarian, xiaolin_volunteer, sui_central, xiaolin_site, wang, sui_item
):
    client = client_for(sui_librarian)
    scan(client, sui_central, "SX000001")
    scan(client, sui_central, sui_item.barcode, card="SX000001")
    client = client_for(xiaolin_volunteer)
    answer = scan(client, xiaolin_site, sui_item.barcode, mode="return")
    assert answer["action"] == "send_home"
    assert "送回所属站点“随县图书馆总馆”" in answer["instruction"]
    again = scan(client, xiaolin_site, sui_item.barcode, mode="return")
    assert again["tone"] == "info" and "之前已经归还" in again["message"]
    page = client.get(reverse("circulation:desk-site", args=["SUIXIAN", "xiaolin"]))
    assert "送往 随县图书馆总馆：1 册" in page.content.decode()


def test_the_desk_without_javascript_renders_the_page(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books
):
    client = client_for(xiaolin_volunteer)
    response = client.post(scan_url(xiaolin_site), {"mode": "checkout", "code": "SX000001"})
    assert response.status_code == 200
    assert "王芳" in response.content.decode()


def test_site_staff_cannot_work_the_desk_of_another_site(
    client_for, xiaolin_volunteer, sui_central, wang, sui_item
):
    client = client_for(xiaolin_volunteer)
    assert client.get(
        reverse("circulation:desk-site", args=["SUIXIAN", "central"])
    ).status_code in (
        403,
        404,
    )
    response = client.post(scan_url(sui_central), {"code": "SX000001"}, **JSON)
    assert response.status_code in (403, 404)
    assert not Loan.objects.exists()


@pytest.mark.parametrize(
    "actor, status",
    [("zengdu_librarian", 404), ("nlc_lender", 403), ("hubei_reviewer", 403)],
)
def test_others_cannot_use_the_desk(
    request, client_for, actor, status, xiaolin_site, wang, xiaolin_item
):
    # Another county's librarian does not see the site at all; the lender and the province see
    # it read-only, so they are refused, and no reader ever reaches them.
    client = client_for(request.getfixturevalue(actor))
    desk = reverse("circulation:desk-site", args=["SUIXIAN", "xiaolin"])
    assert client.get(desk).status_code == status
    assert client.post(scan_url(xiaolin_site), {"code": "SX000001"}, **JSON).status_code == status
    assert client.get(reverse("circulation:desk")).status_code == 404
    assert not Loan.objects.exists()


def test_the_desk_answers_for_a_site_as_the_scope_does(
    client_for, sui_librarian, xiaolin_volunteer, xiaolin_site, sui_branch, zengdu_central
):
    # A volunteer's list of sites wrongly holding another county's site opens no desk there;
    # a site of their own county that is not theirs is out of their scope too.
    xiaolin_volunteer.sites.add(zengdu_central)
    client = client_for(xiaolin_volunteer)
    assert client.post(scan_url(zengdu_central), {"code": "X"}, **JSON).status_code == 404
    assert client.post(scan_url(sui_branch), {"code": "X"}, **JSON).status_code == 404
    missing = reverse("circulation:desk-scan", args=["SUIXIAN", "nowhere"])
    assert client.post(missing, {"code": "X"}, **JSON).status_code == 404
    assert client.post(scan_url(xiaolin_site), {"code": "X"}, **JSON).status_code == 200
    # A closed site is seen but not worked at, by its volunteer or the county's librarian.
    xiaolin_site.is_active = False
    xiaolin_site.save()
    assert client.post(scan_url(xiaolin_site), {"code": "X"}, **JSON).status_code == 403
    client = client_for(sui_librarian)
    assert client.post(scan_url(xiaolin_site), {"code": "X"}, **JSON).status_code == 403
    assert client.post(scan_url(sui_branch), {"code": "X"}, **JSON).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, xiaolin_site):
    response = client.post(scan_url(xiaolin_site), {"code": "SX000001"})
    assert response.status_code == 302 and "login" in response.url


def test_a_checkout_scan_takes_a_fixed_small_number_of_queries(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books, django_assert_max_num_queries
):
    client = client_for(xiaolin_volunteer)
    scan(client, xiaolin_site, "NL50000000", card="SX000001")
    # session, user, the volunteer's sites, the site; lock the reader, lock the item, then
    # count the reader's loans, flag holds, transfers and closed days ahead and read the loan
    # rules (after the locks, so the counts are not stale); insert the loan and its history
    # row, update the item and its holdings-summary rows; the reader's loans for the panel; two
    # savepoints of the test's own transaction.
    with django_assert_max_num_queries(14):
        scan(client, xiaolin_site, "NL50000001", card="SX000001")


def test_a_checkout_adds_its_line_alone_when_the_panel_lists_every_other_loan(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books, django_assert_max_num_queries
):
    client = client_for(xiaolin_volunteer)
    assert scan(client, xiaolin_site, "SX000001")["reader"]
    first = client.post(
        scan_url(xiaolin_site),
        {"mode": "checkout", "card": "SX000001", "code": "NL50000000", "shown": "0"},
        **JSON,
    ).json()
    assert "reader" not in first
    assert "NL50000000" in first["loan"]["line"] and first["loan"]["count"] == "在借 1 册"
    loan = Loan.objects.get(item=books[0])
    assert f'data-loan="{loan.pk}"' in first["loan"]["line"]
    # As above less the panel's read of the reader's loans.
    with django_assert_max_num_queries(13):
        second = client.post(
            scan_url(xiaolin_site),
            {"mode": "checkout", "card": "SX000001", "code": "NL50000001", "shown": "1"},
            **JSON,
        ).json()
    assert second["loan"]["count"] == "在借 2 册" and "NL50000001" in second["loan"]["line"]
    # Loans due later sort after: the order key follows the panel's (due date, then loan).
    assert second["loan"]["order"] > first["loan"]["order"]


@pytest.mark.parametrize("shown", ["0", "2", "", "None", "-1", "9" * 400, "1.0"])
def test_a_panel_that_lists_another_number_of_loans_gets_the_whole_panel(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books, shown
):
    client = client_for(xiaolin_volunteer)
    scan(client, xiaolin_site, "NL50000000", card="SX000001")
    # Another desk lent the reader a book meanwhile: this desk's panel shows one loan fewer.
    answer = client.post(
        scan_url(xiaolin_site),
        {"mode": "checkout", "card": "SX000001", "code": "NL50000001", "shown": shown},
        **JSON,
    ).json()
    assert answer["tone"] == "ok" and "loan" not in answer
    assert "NL50000000" in answer["reader"] and "NL50000001" in answer["reader"]
    assert "在借 2 册" in answer["reader"]


def test_a_return_scan_takes_a_fixed_small_number_of_queries(
    client_for, xiaolin_volunteer, xiaolin_site, wang, books, django_assert_max_num_queries
):
    client = client_for(xiaolin_volunteer)
    scan(client, xiaolin_site, "NL50000000", card="SX000001")
    scan(client, xiaolin_site, "NL50000001", card="SX000001")
    scan(client, xiaolin_site, "NL50000000", mode="return")
    # session, user, sites, site; lock the item; read the loan, close it, history row, update
    # the item and its holdings-summary rows; lock the title and ask for a waiting hold; two
    # savepoints.
    with django_assert_max_num_queries(14):
        scan(client, xiaolin_site, "NL50000001", mode="return")
