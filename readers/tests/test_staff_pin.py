"""Staff set or reset a reader's PIN: on the reader page (who may edit the reader) and at the
desk (who works there, for any reader of the library). Only a hash is kept; other counties and
read-only roles cannot."""

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from circulation.models import Patron
from circulation.services.patrons import patron_set_pin
from collections_app.errors import Refused


def _pin_of(reader):
    return Patron.objects.get(pk=reader.pk).pin


def test_a_librarian_sets_a_pin_on_the_reader_page(client_for, sui_librarian, reader):
    client = client_for(sui_librarian)
    page = client.get(reverse("circulation:patron-detail", args=[reader.pk])).content.decode()
    assert reverse("circulation:patron-pin", args=[reader.pk]) in page
    response = client.post(reverse("circulation:patron-pin", args=[reader.pk]), {"pin": "1357"})
    assert response["Location"] == reverse("circulation:patron-detail", args=[reader.pk])
    assert check_password("1357", _pin_of(reader))


def test_a_volunteer_sets_the_pin_at_the_desk_and_the_reader_stays_loaded(
    client_for, xiaolin_volunteer, catalogue, reader
):
    # Registered at the central library: the volunteer may not edit the reader, but serves them
    # at the 小林一中 desk.
    Patron.objects.filter(pk=reader.pk).update(home_site=catalogue.central)
    client = client_for(xiaolin_volunteer)
    url = reverse("circulation:patron-pin", args=[reader.pk])
    assert client.post(url, {"pin": "1357"}).status_code == 403
    response = client.post(url, {"pin": "1357", "site": catalogue.xiaolin.code})
    desk = reverse("circulation:desk-site", args=["SUIXIAN", catalogue.xiaolin.code])
    assert response["Location"] == f"{desk}?card=SX900001"
    assert check_password("1357", _pin_of(reader))
    # The desk's reader panel offers the same form.
    panel = client.get(response["Location"]).content.decode()
    assert url in panel and 'name="site"' in panel


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12a4", "１２３４", "12 34"])
def test_a_pin_that_is_not_four_to_eight_digits_is_refused(sui_librarian, reader, pin):
    with pytest.raises(Refused):
        patron_set_pin(user=sui_librarian, patron=reader, pin=pin)
    assert _pin_of(reader) == ""


@pytest.mark.parametrize("actor", ["zengdu_librarian", "hubei_reviewer", "nlc_lender"])
def test_staff_outside_the_library_cannot_see_or_set_the_pin(request, client_for, reader, actor):
    client = client_for(request.getfixturevalue(actor))
    response = client.post(reverse("circulation:patron-pin", args=[reader.pk]), {"pin": "1357"})
    assert response.status_code == 404
    assert _pin_of(reader) == ""


def test_the_pin_is_not_kept_in_the_readers_history(sui_librarian, reader):
    patron_set_pin(user=sui_librarian, patron=reader, pin="1357")
    assert not hasattr(reader.history.model, "pin")


def test_the_admin_neither_shows_nor_changes_the_pin_or_the_readers_history_choice(
    client, superuser, sui_librarian, reader
):
    patron_set_pin(user=sui_librarian, patron=reader, pin="1357")
    Patron.objects.filter(pk=reader.pk).update(keeps_reading_history=True)
    stored = _pin_of(reader)
    client.force_login(superuser)
    url = reverse("admin:circulation_patron_change", args=[reader.pk])
    page = client.get(url).content.decode()
    assert stored not in page and 'name="pin"' not in page
    assert 'name="keeps_reading_history"' not in page
    response = client.post(
        url,
        {
            "library": reader.library_id,
            "card_number": reader.card_number,
            "name": "读者甲",
            "category": reader.category,
            "home_site": reader.home_site_id,
            "registered_at_0": "2026-01-01",
            "registered_at_1": "10:00:00",
            "pin": "",
            "keeps_reading_history": "",
        },
    )
    assert response.status_code == 302
    assert _pin_of(reader) == stored
    assert Patron.objects.get(pk=reader.pk).keeps_reading_history is True
