"""Self-service borrowing: the county librarian turns it on per site (off by default), the site's
QR poster opens the reader's borrowing page, and the reader borrows through the desk's own
checkout service, with every refusal of the desk."""

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from circulation.models import Hold, Loan, Patron
from circulation.services import holds as hold_services
from circulation.services.loans import loan_checkout
from circulation.services.patrons import patron_set_pin, patron_suspend
from collections_app.errors import Refused
from collections_app.models import Item, ItemEvent
from readers import accounts, services
from readers.models import SelfServicePoint

PIN = "246810"
LIB = "SUIXIAN"


@pytest.fixture
def reader_with_pin(reader, sui_librarian):
    return patron_set_pin(user=sui_librarian, patron=reader, pin=PIN)


@pytest.fixture
def signed_in(client, reader_with_pin):
    response = client.post(
        reverse("readers:sign-in", args=[LIB]), {"card_number": "SX900001", "pin": PIN}
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def open_point(catalogue, sui_librarian):
    return services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=True)


def _page(point):
    return reverse("readers:self-service", args=[LIB, services.poster_token(point)])


def _staff(name, site):
    return reverse(f"selfservice:{name}", args=[site.library.code, site.code])


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _borrow(client, point, barcode):
    response = client.post(_page(point), {"barcode": barcode})
    assert response.status_code == 302 and response["Location"] == _page(point)
    return _messages(response)


# The switch


def test_self_service_is_off_by_default(catalogue):
    for site in (catalogue.central, catalogue.branch, catalogue.xiaolin):
        assert not services.self_service_enabled(site)
    assert not SelfServicePoint.objects.exists()


def test_the_county_librarian_turns_it_on_and_who_and_when_are_kept(
    client_for, catalogue, sui_librarian
):
    client = client_for(sui_librarian)
    page = client.get(_staff("site", catalogue.xiaolin)).content.decode()
    assert "未开通" in page and "开通自助借书" in page
    response = client.post(_staff("site-switch", catalogue.xiaolin), {"enabled": "1"})
    assert response.status_code == 302
    point = SelfServicePoint.objects.get(site=catalogue.xiaolin)
    assert point.enabled and point.changed_by == sui_librarian and point.changed_at
    assert point.library == catalogue.library
    assert point.history.first().history_user == sui_librarian
    page = client.get(_staff("site", catalogue.xiaolin)).content.decode()
    assert "已开通" in page and "随县馆员" in page and "关闭自助借书" in page
    # The site's page says so and links here.
    detail = client.get(reverse("collections:site-detail", args=[LIB, "xiaolin"])).content
    assert _staff("site", catalogue.xiaolin) in detail.decode()

    client.post(_staff("site-switch", catalogue.xiaolin), {"enabled": "0"})
    point.refresh_from_db()
    assert not point.enabled
    assert point.history.count() == 3


def test_site_staff_see_the_setting_but_cannot_switch_it(
    client_for, catalogue, xiaolin_volunteer, open_point
):
    client = client_for(xiaolin_volunteer)
    page = client.get(_staff("site", catalogue.xiaolin)).content.decode()
    assert "已开通" in page and "关闭自助借书" not in page
    # They may print the poster for their own site, though.
    assert client.get(_staff("site-poster", catalogue.xiaolin)).status_code == 200
    response = client.post(_staff("site-switch", catalogue.xiaolin), {"enabled": "0"})
    assert response.status_code == 403
    assert SelfServicePoint.objects.get(site=catalogue.xiaolin).enabled
    with pytest.raises(Refused):
        services.self_service_set(user=xiaolin_volunteer, site=catalogue.xiaolin, enabled=False)


def test_another_countys_librarian_does_not_find_the_site(client_for, catalogue, zengdu_librarian):
    client = client_for(zengdu_librarian)
    for name in ("site", "site-poster"):
        assert client.get(_staff(name, catalogue.xiaolin)).status_code == 404
    assert (
        client.post(_staff("site-switch", catalogue.xiaolin), {"enabled": "1"}).status_code == 404
    )
    assert not SelfServicePoint.objects.exists()
    with pytest.raises(Refused):
        services.self_service_set(user=zengdu_librarian, site=catalogue.xiaolin, enabled=True)


def test_read_only_roles_cannot_switch_nor_see_who_did(
    client_for, catalogue, hubei_reviewer, nlc_lender, sui_librarian, sui_consignment
):
    services.self_service_set(user=sui_librarian, site=catalogue.central, enabled=True)
    for user in (hubei_reviewer, nlc_lender):
        client = client_for(user)
        page = client.get(_staff("site", catalogue.central)).content.decode()
        assert "已开通" in page and "最近于" in page
        assert "随县馆员" not in page and "suixian" not in page
        assert "关闭自助借书" not in page
        response = client.post(_staff("site-switch", catalogue.xiaolin), {"enabled": "1"})
        assert response.status_code in (403, 404)
    assert not SelfServicePoint.objects.filter(site=catalogue.xiaolin).exists()


def test_the_poster_carries_the_reader_page_address(client_for, catalogue, sui_librarian):
    client = client_for(sui_librarian)
    assert client.get(_staff("site-poster", catalogue.xiaolin)).status_code == 302
    point = services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=True)
    page = client.get(_staff("site-poster", catalogue.xiaolin)).content.decode()
    assert "data:image/svg+xml" in page
    assert _page(point) in page


def test_turning_it_on_again_voids_the_old_posters(catalogue, sui_librarian, open_point):
    old = services.poster_token(open_point)
    assert services.site_for_poster(catalogue.library, old) == catalogue.xiaolin
    services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=False)
    assert services.site_for_poster(catalogue.library, old) is None
    point = services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=True)
    assert services.site_for_poster(catalogue.library, old) is None
    assert services.site_for_poster(catalogue.library, services.poster_token(point))


@pytest.mark.parametrize("token", ["x", "WzEsMV0:forged", "..", "%00"])
def test_a_made_up_poster_opens_nothing(client, catalogue, open_point, token):
    response = client.get(f"/catalogue/{LIB}/self-service/{token}/")
    assert response.status_code in (400, 404)
    assert 'name="barcode"' not in response.content.decode()


def test_a_poster_of_one_county_opens_nothing_in_another(client, catalogue, open_point):
    token = services.poster_token(open_point)
    assert services.site_for_poster(catalogue.zengdu_hlm.library, token) is None
    response = client.get(reverse("readers:self-service", args=["ZENGDU", token]))
    assert response.status_code == 404


def test_an_inactive_site_cannot_be_opened(catalogue, sui_librarian):
    catalogue.xiaolin.is_active = False
    catalogue.xiaolin.save()
    with pytest.raises(Refused):
        services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=True)


# Borrowing


def test_an_anonymous_visitor_is_asked_to_sign_in_first(client, catalogue, open_point):
    response = client.get(_page(open_point))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("readers:sign-in", args=[LIB]))
    assert "next=" in response["Location"]
    response = client.post(_page(open_point), {"barcode": "SX00000004"})
    assert response.status_code == 302
    assert not Loan.objects.exists()


def test_a_reader_borrows_by_typed_barcode_and_the_loan_is_at_the_site(
    signed_in, catalogue, open_point, reader_with_pin
):
    page = signed_in.get(_page(open_point)).content.decode()
    assert "小林一中" in page and 'name="barcode"' in page
    said = _borrow(signed_in, open_point, " SX00000004 ")
    assert any("已借《活着》" in text for text in said), said
    loan = Loan.objects.get(patron=reader_with_pin)
    assert loan.site == catalogue.xiaolin and loan.item.barcode == "SX00000004"
    event = ItemEvent.objects.filter(item=loan.item).latest("pk")
    assert event.kind == ItemEvent.Kind.CHECKED_OUT and event.user is None
    assert "自助" in event.note
    # The same scan again is the same loan, said again.
    again = _borrow(signed_in, open_point, "SX00000004")
    assert any("已经借给您了" in text for text in again)
    assert Loan.objects.count() == 1
    assert "活着" in signed_in.get(_page(open_point)).content.decode()
    call_command("check_integrity")


def test_a_checkout_at_the_desk_keeps_the_desks_words_and_no_self_service_note(
    catalogue, reader, sui_librarian, open_point
):
    loan = loan_checkout(
        user=sui_librarian, site=catalogue.xiaolin, card_number="SX900001", barcode="SX00000004"
    ).loan
    event = ItemEvent.objects.filter(item=loan.item).latest("pk")
    assert event.user == sui_librarian and "自助" not in event.note
    with pytest.raises(Refused, match="不在本站，不能在这里借出。请核对或先调拨"):
        loan_checkout(
            user=sui_librarian, site=catalogue.xiaolin, card_number="SX900001",
            barcode="SX00000005",
        )  # fmt: skip


def test_a_site_with_self_service_off_refuses_and_offers_nothing(
    signed_in, catalogue, sui_librarian, open_point, reader_with_pin
):
    services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=False)
    response = signed_in.get(_page(open_point))
    assert response.status_code == 404
    assert 'name="barcode"' not in response.content.decode()
    assert "不能自助借书" in response.content.decode()
    signed_in.post(_page(open_point), {"barcode": "SX00000004"})
    assert not Loan.objects.exists()
    with pytest.raises(Refused, match="没有开通自助借书"):
        services.self_service_checkout(
            reader=reader_with_pin, site=catalogue.central, barcode="SX00000005"
        )


def test_a_volume_on_another_sites_shelf_is_refused(signed_in, catalogue, open_point):
    said = _borrow(signed_in, open_point, "SX00000005")  # 活着 at the central library
    assert any("不在本站" in text for text in said), said
    assert not Loan.objects.exists()


def test_a_volume_listed_to_go_elsewhere_is_refused_in_the_readers_words(
    signed_in, catalogue, open_point, sui_librarian
):
    from collections_app.models import Transfer
    from collections_app.services.transfers import transfer_add_items, transfer_create

    transfer = transfer_create(
        user=sui_librarian,
        source=catalogue.xiaolin,
        destination=catalogue.central,
        reason=Transfer.Reason.ALLOCATION,
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=[catalogue.living_copy])
    said = _borrow(signed_in, open_point, "SX00000004")
    assert any("要调往别的站点" in text for text in said), said
    # Nothing about transfer numbers a reader cannot act on.
    assert not any("调拨单" in text for text in said)
    assert not Loan.objects.exists()


def test_an_unknown_barcode_and_a_reader_card_are_refused_in_plain_words(
    signed_in, catalogue, open_point
):
    assert any("找不到条码" in text for text in _borrow(signed_in, open_point, "NOPE0001"))
    assert any("是读者证号" in text for text in _borrow(signed_in, open_point, "SX900001"))
    assert any("请扫描或输入" in text for text in _borrow(signed_in, open_point, "   "))


def test_a_suspended_reader_is_refused(
    signed_in, catalogue, open_point, reader_with_pin, sui_librarian
):
    patron_suspend(user=sui_librarian, patron=reader_with_pin, reason="证件挂失")
    said = _borrow(signed_in, open_point, "SX00000004")
    assert any("读者证已暂停" in text for text in said), said
    assert not Loan.objects.exists()


def test_the_loan_limit_is_the_desks(
    signed_in, catalogue, open_point, reader_with_pin, sui_librarian, sui_consignment
):
    from readers.tests.conftest import make_copy

    for n, site in enumerate((catalogue.central, catalogue.central, catalogue.branch)):
        make_copy(sui_consignment, catalogue.earth, site, f"SX0000010{n}")
        loan_checkout(
            user=sui_librarian, site=site, barcode=f"SX0000010{n}", card_number="SX900001"
        )
    said = _borrow(signed_in, open_point, "SX00000004")
    assert any("达到" in text and "上限 3 册" in text for text in said), said
    assert Loan.objects.filter(site=catalogue.xiaolin).count() == 0


def test_a_copy_kept_for_another_readers_hold_is_refused(
    signed_in, catalogue, open_point, sui_librarian
):
    other = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900002",
        name="读者乙",
        category=Patron.Category.ADULT,
        home_site=catalogue.xiaolin,
    )
    hold = hold_services.hold_place(
        user=sui_librarian, patron=other, title=catalogue.living, pickup_site=catalogue.xiaolin
    )
    assert hold.is_trapped
    said = _borrow(signed_in, open_point, "SX00000004")
    assert any("已为预约的读者保留" in text for text in said), said
    assert Item.objects.get(barcode="SX00000004").is_available


def test_the_reader_who_holds_the_copy_borrows_it_and_fills_the_hold(
    signed_in, catalogue, open_point, reader_with_pin, sui_librarian
):
    hold = hold_services.hold_place(
        user=None,
        patron=reader_with_pin,
        title=catalogue.living,
        pickup_site=catalogue.xiaolin,
        reader=reader_with_pin,
    )
    _borrow(signed_in, open_point, "SX00000004")
    hold.refresh_from_db()
    assert hold.status == Hold.Status.FULFILLED
    call_command("check_integrity")


def test_borrowing_is_rate_limited(signed_in, catalogue, open_point, monkeypatch):
    monkeypatch.setattr(accounts, "SELF_SERVICE_SCANS_PER_HOUR", 2)
    _borrow(signed_in, open_point, "NOPE0001")
    _borrow(signed_in, open_point, "NOPE0002")
    said = _borrow(signed_in, open_point, "SX00000004")
    assert any("太频繁" in text for text in said), said
    assert not Loan.objects.exists()


def test_the_borrowing_form_asks_for_a_csrf_token(catalogue, open_point, reader_with_pin):
    client = Client(enforce_csrf_checks=True)
    client.post(reverse("readers:sign-in", args=[LIB]), {"card_number": "SX900001", "pin": PIN})
    response = client.post(_page(open_point), {"barcode": "SX00000004"})
    assert response.status_code == 403
    assert not Loan.objects.exists()


def test_a_reader_of_another_county_cannot_borrow_here(catalogue, open_point, zengdu_central):
    stranger = Patron.objects.create(
        library=zengdu_central.library,
        card_number="ZD900001",
        name="读者丙",
        category=Patron.Category.ADULT,
        home_site=zengdu_central,
    )
    with pytest.raises(Refused):
        services.self_service_checkout(
            reader=stranger, site=catalogue.xiaolin, barcode="SX00000004"
        )
    assert not Loan.objects.exists()


def test_the_page_speaks_english_when_asked(signed_in, catalogue, open_point):
    import re

    signed_in.cookies["django_language"] = "en"
    page = signed_in.get(_page(open_point)).content.decode()
    assert "Self-service" in page
    text = re.sub(r"<[^>]+>", " ", page)
    for data in ("简体中文", catalogue.library.name, catalogue.xiaolin.name):
        text = text.replace(data, "")
    assert not re.search(r"[\u4e00-\u9fff]", text), re.findall(r"\S*[\u4e00-\u9fff]+\S*", text)


# Other entry points: the admin and the demo go through the same service.


def test_the_admin_switches_through_the_service(client_for, superuser, catalogue, open_point):
    client = client_for(superuser)
    changelist = reverse("admin:readers_selfservicepoint_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "disable_self_service", "_selected_action": [open_point.pk]})
    open_point.refresh_from_db()
    assert not open_point.enabled and open_point.changed_by == superuser


def test_the_demo_opens_self_service_at_one_service_point(catalogue, sui_librarian):
    from readers import demo

    catalogue.xiaolin.code = "shennong"
    catalogue.xiaolin.save()
    assert demo.seed_self_service() == 1
    point = SelfServicePoint.objects.get()
    assert point.site == catalogue.xiaolin and point.changed_by == sui_librarian
