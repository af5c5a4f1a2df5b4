"""Reader accounts: sign in with card and PIN, throttled; my account over the desk's services
(renewals, holds), reading history when the reader turns it on; a reader reaches nothing of the
staff side and staff are no reader by accident."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from circulation.models import Hold, Loan, Patron
from circulation.services import holds as hold_services
from circulation.services import loans as loan_services
from circulation.services.patrons import patron_set_pin
from collections_app.errors import Refused
from collections_app.models import ItemEvent
from readers import accounts

PIN = "246810"
LIB = "SUIXIAN"


def _url(name, *args):
    return reverse(f"readers:{name}", args=[LIB, *args])


@pytest.fixture
def reader_with_pin(reader, sui_librarian):
    return patron_set_pin(user=sui_librarian, patron=reader, pin=PIN)


@pytest.fixture
def signed_in(client, reader_with_pin):
    response = client.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN})
    assert response.status_code == 302
    return client


def _lend(librarian, site, barcode, card="SX900001"):
    return loan_services.loan_checkout(
        user=librarian, site=site, card_number=card, barcode=barcode
    ).loan


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# Signing in and out


def test_a_pin_is_kept_only_as_a_password_hash(reader_with_pin):
    stored = Patron.objects.get(pk=reader_with_pin.pk).pin
    assert stored and PIN not in stored
    assert stored.split("$")[0] in ("md5", "pbkdf2_sha256", "argon2", "bcrypt_sha256")


def test_a_reader_signs_in_with_card_and_pin_and_sees_the_account(client, reader_with_pin):
    response = client.post(_url("sign-in"), {"card_number": " SX900001 ", "pin": PIN})
    assert response.status_code == 302
    assert response["Location"] == _url("account")
    assert client.session[accounts.SESSION_READER] == reader_with_pin.pk
    # No staff login: Django's auth session key is absent.
    assert "_auth_user_id" not in client.session
    page = client.get(_url("account"))
    assert page.status_code == 200
    assert "SX900001" in page.content.decode()


def test_a_wrong_pin_is_refused_without_saying_which_part_was_wrong(client, reader_with_pin):
    wrong = client.post(_url("sign-in"), {"card_number": "SX900001", "pin": "000000"})
    unknown = client.post(_url("sign-in"), {"card_number": "SX999999", "pin": PIN})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "读者证号或密码不对" in response.content.decode()
    assert accounts.SESSION_READER not in client.session


def test_a_reader_without_a_pin_cannot_sign_in(client, reader):
    response = client.post(_url("sign-in"), {"card_number": "SX900001", "pin": ""})
    assert response.status_code == 200
    assert accounts.SESSION_READER not in client.session


def test_a_card_of_another_county_does_not_sign_in_here(client, reader_with_pin, zengdu_central):
    response = client.post(
        reverse("readers:sign-in", args=[zengdu_central.library.code]),
        {"card_number": "SX900001", "pin": PIN},
    )
    assert response.status_code == 200
    assert accounts.SESSION_READER not in client.session


def test_sign_out_ends_the_reader_session(signed_in):
    response = signed_in.post(_url("sign-out"))
    assert response.status_code == 302
    assert accounts.SESSION_READER not in signed_in.session
    assert signed_in.get(_url("account")).status_code == 302


def test_a_pin_reset_at_the_desk_signs_the_reader_out(signed_in, reader_with_pin, sui_librarian):
    patron_set_pin(user=sui_librarian, patron=reader_with_pin, pin="135790")
    response = signed_in.get(_url("account"))
    assert response.status_code == 302
    assert response["Location"].startswith(_url("sign-in"))


def test_the_sign_in_form_asks_for_a_csrf_token(reader_with_pin):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN})
    assert response.status_code == 403
    page = strict.get(_url("sign-in"))
    assert "csrfmiddlewaretoken" in page.content.decode()


def test_a_next_address_outside_the_catalogue_is_not_followed(client, reader_with_pin):
    response = client.post(
        _url("sign-in"), {"card_number": "SX900001", "pin": PIN, "next": "https://evil.example/"}
    )
    assert response["Location"] == _url("account")


# Throttle


@pytest.mark.parametrize("limit", [3, 5])
def test_sign_in_locks_a_card_after_too_many_wrong_pins_even_for_the_right_one(
    client, reader_with_pin, monkeypatch, limit
):
    monkeypatch.setattr(accounts, "CARD_FAILURE_LIMIT", limit)
    for attempt in range(limit - 1):
        response = client.post(_url("sign-in"), {"card_number": "SX900001", "pin": "1111"})
        assert response.status_code == 200, attempt
    locked = client.post(_url("sign-in"), {"card_number": "SX900001", "pin": "1111"})
    assert locked.status_code == 429
    right = client.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN})
    assert right.status_code == 429
    assert "分钟后再试" in right.content.decode()
    assert accounts.SESSION_READER not in client.session


def test_the_lock_lifts_after_the_cool_off(client, reader_with_pin, monkeypatch, settings):
    monkeypatch.setattr(accounts, "CARD_FAILURE_LIMIT", 2)
    monkeypatch.setattr(accounts, "COOLOFF_SECONDS", 1)
    for _ in range(2):
        client.post(_url("sign-in"), {"card_number": "SX900001", "pin": "1111"})
    assert client.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN}).status_code == 429
    import time

    time.sleep(1.2)
    assert client.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN}).status_code == 302


def test_one_address_trying_many_cards_is_locked(client, reader_with_pin, monkeypatch):
    monkeypatch.setattr(accounts, "ADDRESS_FAILURE_LIMIT", 4)
    for n in range(4):
        client.post(_url("sign-in"), {"card_number": f"SX80000{n}", "pin": "1111"})
    response = client.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN})
    assert response.status_code == 429
    other = client.post(
        _url("sign-in"),
        {"card_number": "SX900001", "pin": PIN},
        REMOTE_ADDR="10.1.2.3",
    )
    assert other.status_code == 302


# A reader and the staff side


STAFF_PAGES = [
    "/",
    "/desk/",
    "/readers/",
    "/overdue/",
    "/rules/",
    "/collections/",
    "/reports/",
    "/jobs/",
    "/admin/",
    "/api/v1/",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_signed_in_reader_reaches_nothing_of_the_staff_side(signed_in, path):
    response = signed_in.get(path)
    assert response.status_code in (302, 401, 403, 404)
    if response.status_code == 302:
        assert "/login/" in response["Location"]


def test_a_reader_cannot_reach_the_staff_reader_page_or_post_to_the_desk(
    signed_in, reader_with_pin, xiaolin_site
):
    detail = signed_in.get(reverse("circulation:patron-detail", args=[reader_with_pin.pk]))
    assert detail.status_code == 302
    scan = signed_in.post(
        reverse("circulation:desk-scan", args=[LIB, xiaolin_site.code]),
        {"mode": "renew", "code": "SX00000004"},
    )
    assert scan.status_code == 302
    assert "/login" in scan["Location"]


def test_staff_signed_in_are_no_reader_by_accident(client_for, sui_librarian, reader_with_pin):
    client = client_for(sui_librarian)
    response = client.get(_url("account"))
    assert response.status_code == 302
    assert response["Location"].startswith(_url("sign-in"))
    # And the staff side still answers as before.
    assert client.get("/readers/").status_code == 200


def test_a_reader_signing_in_beside_a_staff_login_leaves_staff_rights_alone(
    client_for, sui_librarian, reader_with_pin
):
    client = client_for(sui_librarian)
    client.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN})
    assert client.get(_url("account")).status_code == 200
    assert client.get("/readers/").status_code == 200
    assert client.session["_auth_user_id"] == str(sui_librarian.pk)


def test_the_account_pages_are_closed_to_anonymous_visitors(client, reader_with_pin):
    for name in ("account", "e-card"):
        response = client.get(_url(name))
        assert response.status_code == 302
        assert response["Location"].startswith(_url("sign-in"))
    assert client.get(_url("e-card-image", "qr")).status_code == 302


# Loans and renewals


def test_the_account_lists_loans_with_due_dates_and_marks_the_overdue(
    signed_in, catalogue, sui_librarian
):
    fresh = _lend(sui_librarian, catalogue.xiaolin, "SX00000002")
    late = _lend(sui_librarian, catalogue.xiaolin, "SX00000004")
    Loan.objects.filter(pk=late.pk).update(
        checked_out_at=timezone.now() - timedelta(days=40),
        due_at=timezone.now() - timedelta(days=3),
    )
    page = signed_in.get(_url("account")).content.decode()
    assert "红楼梦人物论" in page and "活着" in page
    assert timezone.localtime(fresh.due_at).strftime("%Y-%m-%d") in page
    assert page.count('class="is-overdue"') == 1
    assert "已逾期" in page


def test_a_reader_renews_a_loan_and_the_item_history_says_the_reader_did(
    signed_in, catalogue, sui_librarian
):
    loan = _lend(sui_librarian, catalogue.xiaolin, "SX00000004")
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        response = signed_in.post(_url("renew", loan.pk))
    assert response.status_code == 302
    loan.refresh_from_db()
    assert loan.renewals == 1
    event = ItemEvent.objects.filter(item=loan.item, kind=ItemEvent.Kind.RENEWED).get()
    assert event.user is None
    assert "读者在线续借" in event.note


def _desk_refusal(client_for, librarian, site, barcode):
    client = client_for(librarian)
    response = client.post(
        reverse("circulation:desk-scan", args=[LIB, site.code]),
        {"mode": "renew", "code": barcode},
        HTTP_ACCEPT="application/json",
    )
    client.logout()
    return response.json()["message"]


@pytest.mark.parametrize("case", ["used_up", "awaited", "too_early", "suspended"])
def test_renewal_refusals_online_are_the_desks_own(
    client, client_for, catalogue, sui_librarian, reader_with_pin, case
):
    loan = _lend(sui_librarian, catalogue.xiaolin, "SX00000004")
    later = timezone.now() + timedelta(days=5)
    if case == "used_up":
        Loan.objects.filter(pk=loan.pk).update(renewals=1)
    elif case == "awaited":
        other = Patron.objects.create(
            library=catalogue.library,
            card_number="SX900002",
            name="读者乙",
            category=Patron.Category.ADULT,
            home_site=catalogue.central,
        )
        hold_services.hold_place(
            user=sui_librarian, patron=other, title=catalogue.living, pickup_site=catalogue.branch
        )
    elif case == "too_early":
        later = timezone.now()
    elif case == "suspended":
        Patron.objects.filter(pk=reader_with_pin.pk).update(is_suspended=True, suspended_reason="x")
    with time_machine.travel(later):
        desk = _desk_refusal(client_for, sui_librarian, catalogue.xiaolin, "SX00000004")
        client.post(_url("sign-in"), {"card_number": "SX900001", "pin": PIN})
        response = client.post(_url("renew", loan.pk))
    online = _messages(response)
    assert online == [desk]
    loan.refresh_from_db()
    assert loan.renewals == (1 if case == "used_up" else 0)


def test_a_reader_cannot_renew_another_readers_loan(
    signed_in, catalogue, sui_librarian, reader_with_pin
):
    other = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900002",
        name="读者乙",
        category=Patron.Category.ADULT,
        home_site=catalogue.xiaolin,
    )
    loan = _lend(sui_librarian, catalogue.xiaolin, "SX00000004", card=other.card_number)
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        assert signed_in.post(_url("renew", loan.pk)).status_code == 404
        with pytest.raises(Refused):
            loan_services.loan_renew(
                user=None, site=loan.site, barcode="SX00000004", reader=reader_with_pin
            )
    loan.refresh_from_db()
    assert loan.renewals == 0


# Holds


def test_a_reader_places_a_hold_from_a_title_page_and_sees_the_queue(
    client, signed_in, catalogue, sui_librarian, reader_with_pin
):
    # 乡土中国's one copy is out; 读者丙 waits for it first, so the reader is second.
    first = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900002",
        name="读者乙",
        category=Patron.Category.ADULT,
        home_site=catalogue.central,
    )
    _lend(sui_librarian, catalogue.central, "SX00000006", card=first.card_number)
    other = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900003",
        name="读者丙",
        category=Patron.Category.ADULT,
        home_site=catalogue.central,
    )
    hold_services.hold_place(
        user=sui_librarian, patron=other, title=catalogue.earth, pickup_site=catalogue.central
    )
    title_page = signed_in.get(_url("title", catalogue.earth.pk)).content.decode()
    assert 'action="' + _url("hold-place", catalogue.earth.pk) in title_page
    response = signed_in.post(
        _url("hold-place", catalogue.earth.pk), {"pickup_site": catalogue.branch.pk}
    )
    assert response.status_code == 302
    hold = Hold.objects.get(patron=reader_with_pin)
    assert hold.pickup_site == catalogue.branch and hold.is_waiting
    assert hold.history.first().history_change_reason == hold_services.READER_ONLINE
    page = signed_in.get(_url("account")).content.decode()
    assert "乡土中国" in page and "排队第 2 位" in page
    # No other reader's name or card on the reader's page.
    assert "读者丙" not in page and "SX900003" not in page


def test_a_hold_for_a_copy_on_the_shelf_at_the_pickup_site_is_ready_at_once(
    signed_in, catalogue, reader_with_pin
):
    signed_in.post(_url("hold-place", catalogue.earth.pk), {"pickup_site": catalogue.central.pk})
    hold = Hold.objects.get(patron=reader_with_pin)
    assert hold.is_trapped
    page = signed_in.get(_url("account")).content.decode()
    assert "书已到" in page


def test_a_reader_is_told_from_which_shelf_a_free_copy_will_be_fetched(
    signed_in, catalogue, sui_librarian, reader_with_pin
):
    # 乡土中国's one copy stands free at the central library; the reader picks up at 小林一中.
    response = signed_in.post(
        _url("hold-place", catalogue.earth.pk), {"pickup_site": catalogue.xiaolin.pk}
    )
    hold = Hold.objects.get(patron=reader_with_pin)
    assert hold.is_waiting
    told = [str(message) for message in get_messages(response.wsgi_request)]
    fetched = f"“{catalogue.central.name}”架上有书，将调取送到“{catalogue.xiaolin.name}”"
    assert any(fetched in message for message in told)
    page = signed_in.get(_url("account")).content.decode()
    assert fetched in page and "排队第" not in page
    # Once that copy is lent to another reader nothing stands free: the reader is in the queue.
    other = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900002",
        name="读者乙",
        category=Patron.Category.ADULT,
        home_site=catalogue.central,
    )
    _lend(sui_librarian, catalogue.central, "SX00000006", card=other.card_number)
    page = signed_in.get(_url("account")).content.decode()
    assert "将调取送到" not in page and "排队第 1 位" in page


def test_an_online_hold_enters_the_desks_trap_and_transfer_workflow(
    signed_in, catalogue, sui_librarian, reader_with_pin
):
    other = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900002",
        name="读者乙",
        category=Patron.Category.ADULT,
        home_site=catalogue.central,
    )
    loan = _lend(sui_librarian, catalogue.central, "SX00000006", card=other.card_number)
    signed_in.post(_url("hold-place", catalogue.earth.pk), {"pickup_site": catalogue.xiaolin.pk})
    hold = Hold.objects.get(patron=reader_with_pin)
    assert hold.is_waiting
    done = loan_services.loan_return(
        user=sui_librarian, site=catalogue.central, barcode="SX00000006"
    )
    assert done.routing.transfer is not None
    hold.refresh_from_db()
    assert hold.is_trapped and hold.item_id == loan.item_id
    page = signed_in.get(_url("account")).content.decode()
    assert "正在送往取书站点" in page
    call_command("check_integrity")


def test_refusals_of_a_hold_are_the_services_own(signed_in, catalogue, sui_librarian):
    _lend(sui_librarian, catalogue.xiaolin, "SX00000004")
    response = signed_in.post(
        _url("hold-place", catalogue.living.pk), {"pickup_site": catalogue.central.pk}
    )
    assert _messages(response) == ["读者已经借着这本书，不需要预约。"]
    assert not Hold.objects.exists()


def test_a_pickup_site_of_another_county_is_not_accepted(signed_in, catalogue):
    response = signed_in.post(
        _url("hold-place", catalogue.earth.pk),
        {"pickup_site": catalogue.zengdu_hlm.library.sites.first().pk},
    )
    assert response.status_code == 302
    assert not Hold.objects.exists()


def test_a_reader_cancels_their_hold_and_the_copy_passes_on(
    signed_in, catalogue, sui_librarian, reader_with_pin
):
    signed_in.post(_url("hold-place", catalogue.earth.pk), {"pickup_site": catalogue.central.pk})
    hold = Hold.objects.get(patron=reader_with_pin)
    assert hold.is_trapped
    signed_in.post(_url("hold-cancel", hold.pk))
    hold.refresh_from_db()
    assert hold.status == Hold.Status.CANCELLED
    assert hold.history.first().history_change_reason == hold_services.READER_ONLINE
    assert "乡土中国" not in signed_in.get(_url("account")).content.decode().split("我的预约")[1]


def test_a_reader_cannot_cancel_another_readers_hold(
    signed_in, catalogue, sui_librarian, reader_with_pin
):
    other = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900002",
        name="读者乙",
        category=Patron.Category.ADULT,
        home_site=catalogue.central,
    )
    hold = hold_services.hold_place(
        user=sui_librarian, patron=other, title=catalogue.earth, pickup_site=catalogue.central
    )
    assert signed_in.post(_url("hold-cancel", hold.pk)).status_code == 404
    with pytest.raises(Refused):
        hold_services.hold_cancel(user=None, hold=hold, reader=reader_with_pin)
    hold.refresh_from_db()
    assert hold.is_open


def test_holds_placed_online_are_rate_limited(signed_in, catalogue, monkeypatch, reader_with_pin):
    monkeypatch.setattr(accounts, "HOLDS_PER_HOUR", 1)
    signed_in.post(_url("hold-place", catalogue.earth.pk), {"pickup_site": catalogue.central.pk})
    response = signed_in.post(
        _url("hold-place", catalogue.hlm.pk), {"pickup_site": catalogue.central.pk}
    )
    assert _messages(response)[-1] == "您预约得太频繁了，请一小时后再试。"
    assert Hold.objects.filter(patron=reader_with_pin).count() == 1


# Reading history


def test_reading_history_is_off_by_default_and_shown_only_when_turned_on(
    signed_in, catalogue, sui_librarian, reader_with_pin
):
    _lend(sui_librarian, catalogue.xiaolin, "SX00000002")
    loan_services.loan_return(user=sui_librarian, site=catalogue.xiaolin, barcode="SX00000002")
    assert Patron.objects.get(pk=reader_with_pin.pk).keeps_reading_history is False
    page = signed_in.get(_url("account")).content.decode()
    assert "红楼梦人物论" not in page
    signed_in.post(_url("reading-history"), {"keep": "1"})
    assert Patron.objects.get(pk=reader_with_pin.pk).keeps_reading_history is True
    assert "红楼梦人物论" in signed_in.get(_url("account")).content.decode()
    signed_in.post(_url("reading-history"), {"keep": "0"})
    assert "红楼梦人物论" not in signed_in.get(_url("account")).content.decode()


def test_the_account_pages_speak_english_when_asked(
    signed_in, catalogue, sui_librarian, reader_with_pin
):
    import re

    _lend(sui_librarian, catalogue.xiaolin, "SX00000002")
    signed_in.cookies["django_language"] = "en"
    signed_in.post(_url("hold-place", catalogue.earth.pk), {"pickup_site": catalogue.branch.pk})
    for name in ("account", "e-card"):
        page = signed_in.get(_url(name)).content.decode()
        page = re.sub(r"<option[^>]*>.*?</option>", "", page)
        assert "My account" in page or "E-card" in page
        text = re.sub(r"<[^>]+>", " ", page)
        # Only the books' titles and the library's and sites' names stay in Chinese.
        # The language switcher names Chinese in Chinese.
        for data in (catalogue.central.name, "简体中文", "红楼梦人物论", "乡土中国", "随县图书馆",
                     catalogue.xiaolin.name, catalogue.branch.name,
                     catalogue.library.name):  # fmt: skip
            text = text.replace(data, "")
        assert not re.search(r"[\u4e00-\u9fff]", text), re.findall(r"\S*[\u4e00-\u9fff]+\S*", text)


def test_a_signed_in_reader_reaches_no_staff_route_at_all(signed_in, catalogue, sui_item):
    """Every route of the platform outside the catalogue, as the anonymous visitor's matrix
    walks them (readers/tests/test_views_catalogue.py), for GET and POST."""
    from django.urls import get_resolver

    from readers.tests.test_views_catalogue import PUBLIC, _every_url, _sample

    checked = 0
    for name, route in _every_url(get_resolver().url_patterns):
        if name.split(":")[0] in PUBLIC or name in PUBLIC or "(?P" in route:
            continue
        # The staff sign-in form itself, and sign-outs, which end the whole browser session.
        if name == "admin:login" or name.endswith("logout"):
            continue
        path = _sample(route)
        for method in (signed_in.get, signed_in.post):
            response = method(path)
            assert response.status_code in {301, 302, 401, 403, 404, 405}, (name, path)
            if response.status_code == 302:
                assert "/login/" in response["Location"], (name, path)
        checked += 1
    assert checked > 50
    # Still signed in as the reader, and still nobody on the staff side.
    assert signed_in.get(_url("account")).status_code == 200
    assert "_auth_user_id" not in signed_in.session
