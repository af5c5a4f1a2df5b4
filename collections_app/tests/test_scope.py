"""One scope for every actor: what each role reads, and what stays invisible (404)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.scope import (
    can_manage_library,
    can_work_at_site,
    get_scoped_or_404,
    require_manage_library,
    scoped,
    visible_library_ids,
)
from circulation.models import Patron
from collections_app.models import Consignment, Item, Library, Site


def barcodes(user):
    return set(scoped(Item.objects.all(), user).values_list("barcode", flat=True))


def test_a_county_librarian_sees_only_the_items_of_their_library(
    sui_librarian, sui_item, xiaolin_item, zengdu_item
):
    assert barcodes(sui_librarian) == {sui_item.barcode, xiaolin_item.barcode}


def test_an_item_of_another_county_is_not_found_rather_than_forbidden(sui_librarian, zengdu_item):
    with pytest.raises(Http404):
        get_scoped_or_404(Item.objects, sui_librarian, barcode=zengdu_item.barcode)


def test_a_volunteer_sees_only_the_items_at_their_service_point(
    xiaolin_volunteer, sui_item, xiaolin_item
):
    assert barcodes(xiaolin_volunteer) == {xiaolin_item.barcode}
    sites = scoped(Site.objects.all(), xiaolin_volunteer)
    assert [site.code for site in sites] == ["xiaolin"]


def test_a_provincial_reviewer_reads_every_county_of_the_province(
    hubei_reviewer, sui_item, zengdu_item, suixian, zengdu, hubei
):
    assert barcodes(hubei_reviewer) == {sui_item.barcode, zengdu_item.barcode}
    assert visible_library_ids(hubei_reviewer) == {suixian.pk, zengdu.pk, hubei.pk}


def test_a_provincial_reviewer_does_not_see_counties_of_another_province(
    hubei_reviewer, nlc, sui_item
):
    henan = Library.objects.create(code="HNLIB", name="河南省图书馆", kind=Library.Kind.PROVINCIAL)
    county = Library.objects.create(
        code="XIXIAN", name="息县图书馆", kind=Library.Kind.COUNTY, province=henan
    )
    Consignment.objects.create(
        library=county, lender=nlc, reference="NLC-2021-XX", agreement_date="2021-06-01"
    )
    assert county.pk not in visible_library_ids(hubei_reviewer)
    assert not scoped(Consignment.objects.filter(library=county), hubei_reviewer).exists()


def test_the_lender_reads_the_volumes_it_lent_in_every_county(
    nlc_lender, sui_item, zengdu_item, suixian, zengdu
):
    assert barcodes(nlc_lender) == {sui_item.barcode, zengdu_item.barcode}
    libraries = set(scoped(Library.objects.all(), nlc_lender).values_list("code", flat=True))
    assert {"SUIXIAN", "ZENGDU", "NLC"} <= libraries


def test_readers_stay_private_to_their_library(
    sui_librarian, zengdu_librarian, hubei_reviewer, nlc_lender, sui_central
):
    Patron.objects.create(
        library=sui_central.library,
        card_number="SX000001",
        name="李明",
        category=Patron.Category.ADULT,
        home_site=sui_central,
    )
    assert scoped(Patron.objects.all(), sui_librarian).count() == 1
    for outsider in (zengdu_librarian, hubei_reviewer, nlc_lender):
        assert not scoped(Patron.objects.all(), outsider).exists()


def test_an_anonymous_or_inactive_user_sees_nothing(sui_librarian, sui_item):
    from django.contrib.auth.models import AnonymousUser

    assert not scoped(Item.objects.all(), AnonymousUser()).exists()
    sui_librarian.is_active = False
    assert not scoped(Item.objects.all(), sui_librarian).exists()


def test_the_superuser_sees_everything(superuser, sui_item, zengdu_item):
    assert barcodes(superuser) == {sui_item.barcode, zengdu_item.barcode}


def test_only_the_county_librarian_manages_their_library(
    sui_librarian, zengdu_librarian, hubei_reviewer, nlc_lender, xiaolin_volunteer, suixian
):
    assert can_manage_library(sui_librarian, suixian)
    for other in (zengdu_librarian, hubei_reviewer, nlc_lender, xiaolin_volunteer):
        assert not can_manage_library(other, suixian)
    with pytest.raises(PermissionDenied):
        require_manage_library(hubei_reviewer, suixian)


def test_a_volunteer_works_at_their_own_site_only(
    xiaolin_volunteer, sui_librarian, xiaolin_site, sui_central
):
    assert can_work_at_site(xiaolin_volunteer, xiaolin_site)
    assert not can_work_at_site(xiaolin_volunteer, sui_central)
    assert can_work_at_site(sui_librarian, xiaolin_site)
