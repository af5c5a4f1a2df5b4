"""The invariants the database itself enforces, whatever the code above it does."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from collections_app.models import Consignment, Display, Item, Site, Transfer, TransferLine


def test_a_barcode_is_unique_across_all_libraries(sui_item, zengdu_item):
    zengdu_item.barcode = sui_item.barcode
    with pytest.raises(IntegrityError):
        zengdu_item.save()


def test_an_item_cannot_be_on_two_open_transfers(sui_item, sui_central, sui_branch, xiaolin_site):
    first = Transfer.objects.create(
        library=sui_item.library, source=sui_central, destination=sui_branch, reason="allocation"
    )
    second = Transfer.objects.create(
        library=sui_item.library, source=sui_central, destination=xiaolin_site, reason="allocation"
    )
    TransferLine.objects.create(library=sui_item.library, transfer=first, item=sui_item)
    with pytest.raises(IntegrityError), transaction.atomic():
        TransferLine.objects.create(library=sui_item.library, transfer=second, item=sui_item)


def test_an_item_may_travel_again_once_its_transfer_is_closed(
    sui_item, sui_central, sui_branch, xiaolin_site
):
    first = Transfer.objects.create(
        library=sui_item.library, source=sui_central, destination=sui_branch, reason="allocation"
    )
    TransferLine.objects.create(
        library=sui_item.library, transfer=first, item=sui_item, state="received", is_open=False
    )
    second = Transfer.objects.create(
        library=sui_item.library, source=sui_branch, destination=xiaolin_site, reason="rotation"
    )
    TransferLine.objects.create(library=sui_item.library, transfer=second, item=sui_item)
    assert TransferLine.objects.filter(item=sui_item).count() == 2


def test_a_transfer_goes_somewhere_else(sui_item, sui_central):
    with pytest.raises(IntegrityError):
        Transfer.objects.create(
            library=sui_item.library, source=sui_central, destination=sui_central, reason="rotation"
        )


def test_only_a_return_to_the_lender_has_no_destination(sui_item, sui_central):
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(library=sui_item.library, source=sui_central, reason="rotation")
    Transfer.objects.create(library=sui_item.library, source=sui_central, reason="return_to_lender")


def test_a_transfer_is_received_after_it_was_dispatched(sui_item, sui_central, sui_branch):
    now = timezone.now()
    with pytest.raises(IntegrityError):
        Transfer.objects.create(
            library=sui_item.library,
            source=sui_central,
            destination=sui_branch,
            reason="allocation",
            created_at=now,
            dispatched_at=now + timedelta(days=2),
            received_at=now + timedelta(days=1),
        )


def test_a_display_ends_after_it_starts(sui_central):
    with pytest.raises(IntegrityError):
        Display.objects.create(
            library=sui_central.library,
            site=sui_central,
            name="国图文献专架",
            starts_on="2026-05-01",
            ends_on="2026-04-01",
        )


def test_a_consignment_term_ends_after_the_agreement(nlc, suixian):
    with pytest.raises(IntegrityError):
        Consignment.objects.create(
            library=suixian,
            lender=nlc,
            reference="NLC-BAD",
            agreement_date="2021-03-01",
            term_ends_on="2020-03-01",
        )


def test_site_codes_are_unique_within_a_library_but_not_across(sui_central, zengdu_central):
    assert sui_central.code == zengdu_central.code == "central"
    with pytest.raises(IntegrityError):
        Site.objects.create(
            library=sui_central.library, code="central", name="重复", kind="central"
        )


def test_a_branch_hangs_under_a_parent_site(suixian):
    with pytest.raises(IntegrityError):
        Site.objects.create(library=suixian, code="orphan", name="无上级分馆", kind="branch")


def test_an_item_status_outside_the_known_states_is_refused(sui_item):
    with pytest.raises(IntegrityError):
        Item.objects.filter(pk=sui_item.pk).update(status="lost_in_space")
