"""Every page of the readers' side, for three visitors: an anonymous visitor, the signed-in
reader of the library, and a reader signed in at another county. Each route of the `readers`
namespace must be listed here, so a new page cannot be added without saying who may open it.

The staff side is walked route by route for the anonymous visitor and the signed-in reader in
test_views_catalogue.py and test_accounts.py; the self-service staff pages are checked here with
real site codes as well."""

import pytest
from django.urls import get_resolver, reverse

from circulation.models import Hold, Loan, Patron
from circulation.services.loans import loan_checkout
from circulation.services.patrons import patron_set_pin
from readers import services
from readers.models import SelfServicePoint

PIN = "135790"
LIB = "SUIXIAN"

# Who gets what, by route name: (anonymous, reader, reader of another county), for GET; POST
# routes list what a POST gets. "sign-in" means a redirect to this library's sign-in page.
OPEN = (200, 200, 200)
READER_ONLY = ("sign-in", 200, "sign-in")
GET_PAGES = {
    "libraries": OPEN,
    "home": OPEN,
    "search": OPEN,
    "title": OPEN,
    "new-arrivals": OPEN,
    "popular": OPEN,
    "sign-in": OPEN,
    "account": READER_ONLY,
    "e-card": READER_ONLY,
    "e-card-image": READER_ONLY,
    "self-service": READER_ONLY,
}
# POST only: a GET is refused (405) for everyone.
POST_ACTIONS = {
    "sign-out": ("home", "home", "home"),
    "renew": ("sign-in", "account", "sign-in"),
    "hold-cancel": ("sign-in", "account", "sign-in"),
    "reading-history": ("sign-in", "account", "sign-in"),
    "hold-place": ("sign-in", "account", "sign-in"),
}


@pytest.fixture
def world(catalogue, reader, sui_librarian, zengdu_central, zengdu_librarian):
    patron_set_pin(user=sui_librarian, patron=reader, pin=PIN)
    stranger = Patron.objects.create(
        library=zengdu_central.library,
        card_number="ZD900001",
        name="读者丙",
        category=Patron.Category.ADULT,
        home_site=zengdu_central,
    )
    patron_set_pin(user=zengdu_librarian, patron=stranger, pin=PIN)
    loan = loan_checkout(
        user=sui_librarian, site=catalogue.xiaolin, card_number="SX900001", barcode="SX00000004"
    ).loan
    hold = Hold.objects.create(
        library=catalogue.library,
        patron=reader,
        title=catalogue.earth,
        pickup_site=catalogue.xiaolin,
        placed_at=loan.checked_out_at,
        expires_at=loan.due_at,
    )
    point = services.self_service_set(user=sui_librarian, site=catalogue.xiaolin, enabled=True)
    return {
        "title": (catalogue.hlm.pk,),
        "renew": (loan.pk,),
        "hold-cancel": (hold.pk,),
        "hold-place": (catalogue.hlm.pk,),
        "e-card-image": ("qr",),
        "self-service": (services.poster_token(point),),
    }


def _path(name, args):
    if name == "libraries":
        return reverse("readers:libraries")
    return reverse(f"readers:{name}", args=[LIB, *args])


def _visitors(client_factory, world):
    anonymous = client_factory()
    reader = client_factory()
    response = reader.post(
        reverse("readers:sign-in", args=[LIB]), {"card_number": "SX900001", "pin": PIN}
    )
    assert response.status_code == 302
    stranger = client_factory()
    response = stranger.post(
        reverse("readers:sign-in", args=["ZENGDU"]), {"card_number": "ZD900001", "pin": PIN}
    )
    assert response.status_code == 302
    return anonymous, reader, stranger


def _check(response, expected, path):
    if isinstance(expected, int):
        assert response.status_code == expected, path
        return
    assert response.status_code == 302, path
    target = {
        "sign-in": reverse("readers:sign-in", args=[LIB]),
        "home": reverse("readers:home", args=[LIB]),
        "account": reverse("readers:account", args=[LIB]),
    }[expected]
    assert response["Location"].split("?")[0] == target, (path, response["Location"])


def test_every_readers_route_is_in_the_matrix():
    from readers.tests.test_views_catalogue import _every_url

    names = {
        name.split(":", 1)[1]
        for name, _route in _every_url(get_resolver().url_patterns)
        if name.startswith("readers:")
    }
    assert names == set(GET_PAGES) | set(POST_ACTIONS)


def test_each_visitor_gets_what_the_matrix_says(client_factory, world):
    visitors = _visitors(client_factory, world)
    for name, expected in GET_PAGES.items():
        path = _path(name, world.get(name, ()))
        for client, outcome in zip(visitors, expected, strict=True):
            _check(client.get(path), outcome, path)
    for name in POST_ACTIONS:
        path = _path(name, world.get(name, ()))
        for client in visitors:
            assert client.get(path).status_code == 405, path


def test_each_visitor_posting_gets_what_the_matrix_says(client_factory, world, catalogue):
    anonymous, reader, stranger = _visitors(client_factory, world)
    for name, expected in POST_ACTIONS.items():
        if name == "sign-out":
            continue
        path = _path(name, world.get(name, ()))
        data = {"pickup_site": catalogue.xiaolin.pk} if name == "hold-place" else {}
        _check(anonymous.post(path, data), expected[0], path)
        _check(stranger.post(path, data), expected[2], path)
    # Nothing the anonymous visitor or the other county's reader posted changed a thing.
    assert Loan.objects.get().renewals == 0
    assert Hold.objects.get(title=catalogue.earth).is_open
    assert not Hold.objects.filter(title=catalogue.hlm).exists()
    assert not Patron.objects.get(card_number="SX900001").keeps_reading_history
    # Borrowing at the self-service point: neither may.
    for client in (anonymous, stranger):
        client.post(_path("self-service", world["self-service"]), {"barcode": "SX00000002"})
    assert Loan.objects.count() == 1
    # The library's own reader may do each.
    for name, expected in POST_ACTIONS.items():
        if name == "sign-out":
            continue
        path = _path(name, world.get(name, ()))
        data = {"pickup_site": catalogue.xiaolin.pk} if name == "hold-place" else {"keep": "1"}
        _check(reader.post(path, data), expected[1], path)
    assert not Hold.objects.get(title=catalogue.earth).is_open
    assert Hold.objects.get(title=catalogue.hlm).is_open
    assert Patron.objects.get(card_number="SX900001").keeps_reading_history
    # Sign-out ends only the session that posts it.
    for client in (anonymous, reader, stranger):
        _check(client.post(_path("sign-out", ())), "home", "sign-out")
    assert reader.get(_path("account", ())).status_code == 302


def test_a_signed_in_reader_reaches_no_self_service_staff_page(client_factory, world, catalogue):
    _anonymous, reader, _stranger = _visitors(client_factory, world)
    site = catalogue.xiaolin
    for name in ("site", "site-poster", "site-switch"):
        path = reverse(f"selfservice:{name}", args=[LIB, site.code])
        for method in (reader.get, reader.post):
            response = method(path, {"enabled": "0"})
            assert response.status_code in (302, 405), path
            if response.status_code == 302:
                assert reverse("accounts:login") in response["Location"], path
    assert SelfServicePoint.objects.get(site=site).enabled


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client
