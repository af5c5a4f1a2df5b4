"""Random sequences of transfers, checkouts, returns anywhere, renewals and holds; after every
step each item is in exactly one state and the counts per state add up (DESIGN invariant 1),
and each item's last history row agrees with its status (invariant 3), and `check_integrity` finds
nothing broken."""

import itertools
from datetime import date, timedelta

import pytest
from django.db.models import Count, Q
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accounts.models import User
from circulation.integrity import find_violations
from circulation.models import Hold, Loan, LoanRule, Patron
from circulation.services.holds import hold_cancel, hold_place, holds_expire
from circulation.services.loans import loan_checkout, loan_renew, loan_return
from collections_app.errors import Refused
from collections_app.models import (
    Consignment,
    Item,
    ItemEvent,
    Library,
    Site,
    Title,
    Transfer,
    TransferLine,
)
from collections_app.services.holdings import holdings_add
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_cancel,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)

ITEMS = 6
PATRONS = 3
SITES = 3
counter = itertools.count()


class Circulation(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        n = next(counter)
        nlc = Library.objects.get_or_create(
            code="NLC", defaults={"name": "国家图书馆", "kind": Library.Kind.NATIONAL}
        )[0]
        self.library = Library.objects.create(
            code=f"SM{n}", name=f"状态机{n}", kind=Library.Kind.COUNTY
        )
        central = Site.objects.create(library=self.library, code="c", name="总馆", kind="central")
        branch = Site.objects.create(
            library=self.library, code="b", name="分馆", kind="branch", parent=central
        )
        point = Site.objects.create(
            library=self.library, code="p", name="服务点", kind="service_point", parent=branch
        )
        self.sites = [central, branch, point]
        self.user = User.objects.create_user(
            username=f"sm{n}", library=self.library, role=User.Role.LIBRARIAN
        )
        consignment = Consignment.objects.create(
            library=self.library,
            lender=nlc,
            reference=f"SM-{n}",
            agreement_date=date(2021, 1, 1),
            status=Consignment.Status.ACTIVE,
        )
        # Two titles, three copies each, so holds compete for copies.
        titles = [
            Title.objects.create(library=self.library, title=f"书{k}", clc="I") for k in range(2)
        ]
        self.items = [
            Item.objects.create(
                library=self.library,
                barcode=f"SM{n}-{k}",
                title=titles[k % 2],
                consignment=consignment,
                owner=nlc,
                home_site=self.sites[k % SITES],
                current_site=self.sites[k % SITES],
            )
            for k in range(ITEMS)
        ]
        holdings_add(item_ids=[item.pk for item in self.items])
        for category in Patron.Category.values:
            LoanRule.objects.create(
                library=self.library,
                category=category,
                loan_days=14,
                max_items=3,
                max_renewals=2,
                hold_pickup_days=3,
            )
        self.patrons = [
            Patron.objects.create(
                library=self.library,
                card_number=f"R{k}",
                name=f"读者{k}",
                category="adult",
                home_site=central,
            )
            for k in range(PATRONS)
        ]
        self.now = timezone.now()

    def _try(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except Refused:
            return None

    def _item(self, index):
        return Item.objects.get(pk=self.items[index].pk)

    @rule(days=st.integers(min_value=0, max_value=20))
    def time_passes(self, days):
        self.now += timedelta(days=days, minutes=1)

    @rule(
        i=st.integers(0, ITEMS - 1),
        p=st.integers(0, PATRONS - 1),
        s=st.integers(0, SITES - 1),
        at_its_site=st.booleans(),
    )
    def checkout(self, i, p, s, at_its_site):
        site = self._item(i).current_site if at_its_site else self.sites[s]
        self._try(
            loan_checkout,
            user=self.user,
            site=site,
            patron=self.patrons[p],
            barcode=self.items[i].barcode,
            now=self.now,
        )

    def _pick(self, k, **filters):
        """The k-th (modulo) item matching `filters`, so that rules mostly hit real cases."""
        items = list(Item.objects.filter(library=self.library, **filters).order_by("pk"))
        return items[k % len(items)] if items else None

    @rule(k=st.integers(0, 20), s=st.integers(0, SITES - 1), any_item=st.booleans())
    def return_anywhere(self, k, s, any_item):
        item = self._item(k % ITEMS) if any_item else self._pick(k, status="on_loan")
        if item is not None:
            self._try(
                loan_return,
                user=self.user,
                site=self.sites[s],
                barcode=item.barcode,
                now=self.now,
            )

    @rule(k=st.integers(0, 20))
    def renew(self, k):
        item = self._pick(k, status="on_loan")
        if item is not None:
            self._try(
                loan_renew, user=self.user, site=self.sites[0], barcode=item.barcode, now=self.now
            )

    @rule(i=st.integers(0, ITEMS - 1), p=st.integers(0, PATRONS - 1), s=st.integers(0, SITES - 1))
    def place_hold(self, i, p, s):
        self._try(
            hold_place,
            user=self.user,
            patron=self.patrons[p],
            title=self.items[i].title,
            pickup_site=self.sites[s],
            valid_days=10,
            now=self.now,
        )

    @rule(k=st.integers(0, 20))
    def cancel_hold(self, k):
        holds = list(Hold.objects.open().filter(library=self.library).order_by("id"))
        if holds:
            self._try(hold_cancel, user=self.user, hold=holds[k % len(holds)], now=self.now)

    @rule()
    def expire_holds(self):
        holds_expire(now=self.now)

    @rule(
        picks=st.lists(st.integers(0, ITEMS - 1), min_size=1, max_size=3, unique=True),
        d=st.integers(0, SITES - 1),
    )
    def build_transfer(self, picks, d):
        first = self._item(picks[0])
        source = first.current_site
        here = list(Item.objects.filter(current_site=source, status="available").order_by("pk"))
        items = [first] + [here[i % len(here)] for i in picks[1:] if here]
        destination = self.sites[d]
        transfer = self._try(
            transfer_create,
            user=self.user,
            source=source,
            destination=destination,
            reason=Transfer.Reason.ROTATION,
        )
        if transfer is not None:
            self._try(transfer_add_items, user=self.user, transfer=transfer, items=items)

    def _open_transfer(self, k, status):
        transfers = list(
            Transfer.objects.filter(library=self.library, status=status).order_by("id")
        )
        return transfers[k % len(transfers)] if transfers else None

    @rule(k=st.integers(0, 20))
    def dispatch(self, k):
        transfer = self._open_transfer(k, Transfer.Status.DRAFT)
        if transfer is not None:
            self._try(transfer_dispatch, user=self.user, transfer=transfer)

    @rule(k=st.integers(0, 20), finish=st.booleans(), partial=st.booleans())
    def receive(self, k, finish, partial):
        transfer = self._open_transfer(k, Transfer.Status.DISPATCHED)
        if transfer is None:
            return
        codes = list(transfer.lines.values_list("item__barcode", flat=True))
        if partial:
            codes = codes[:1]
        self._try(
            transfer_receive,
            user=self.user,
            transfer=transfer,
            site=transfer.destination,
            barcodes=codes,
            finish=finish,
        )

    @rule(k=st.integers(0, 20), dispatched=st.booleans())
    def cancel_transfer(self, k, dispatched):
        status = Transfer.Status.DISPATCHED if dispatched else Transfer.Status.DRAFT
        transfer = self._open_transfer(k, status)
        if transfer is not None:
            self._try(transfer_cancel, user=self.user, transfer=transfer)

    @invariant()
    def every_item_is_in_exactly_one_state(self):
        items = Item.objects.filter(library=self.library).annotate(
            open_loans=Count("loans", filter=Q(loans__returned_at__isnull=True), distinct=True),
            open_lines=Count(
                "transfer_lines", filter=Q(transfer_lines__is_open=True), distinct=True
            ),
            dispatched_lines=Count(
                "transfer_lines",
                filter=Q(
                    transfer_lines__is_open=True,
                    transfer_lines__transfer__status=Transfer.Status.DISPATCHED,
                    transfer_lines__state=TransferLine.State.PENDING,
                ),
                distinct=True,
            ),
            trapped=Count("holds", filter=Q(holds__status="trapped"), distinct=True),
        )
        states = {"shelf": 0, "loan": 0, "transit": 0, "out": 0}
        for item in items:
            assert item.trapped <= 1, item
            if item.status == Item.Status.AVAILABLE:
                assert item.open_loans == 0 and item.dispatched_lines == 0, item
                assert item.open_lines <= 1, item
                states["shelf"] += 1
            elif item.status == Item.Status.ON_LOAN:
                assert item.open_loans == 1 and item.open_lines == 0, item
                assert item.trapped == 0, item
                states["loan"] += 1
            elif item.status == Item.Status.IN_TRANSIT:
                assert item.open_loans == 0, item
                assert item.open_lines == 1 and item.dispatched_lines == 1, item
                states["transit"] += 1
            else:
                assert item.status in Item.OUT_OF_SERVICE, item
                assert item.open_loans == 0 and item.open_lines == 0, item
                states["out"] += 1
            last = ItemEvent.objects.filter(item=item).order_by("-id").first()
            if last is not None:
                assert last.to_status == item.status, (item, last)
        assert sum(states.values()) == ITEMS
        assert states["loan"] == Loan.objects.open().filter(library=self.library).count()

    @invariant()
    def the_integrity_check_finds_nothing(self):
        assert find_violations(self.library) == []


@pytest.mark.django_db
def test_items_stay_in_exactly_one_state_through_random_circulation():
    run_state_machine_as_test(
        Circulation,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
