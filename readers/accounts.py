"""Reader accounts: a card holder signs in with library, card number and PIN.

A reader's session is not a staff login. The reader's id is kept in the session under its own
key, never through django.contrib.auth, so `request.user` stays anonymous for a reader and every
staff page (each behind `login_required` and the scope predicates) stays closed to them; a staff
user who opens the catalogue is no reader unless they sign in with a card. The session also keeps
a fingerprint of the PIN's hash, as Django does for passwords, so that a PIN reset at the desk
signs the reader out everywhere.

Sign-in is throttled in the cache: failures are counted per card and per address (the address
sign-in lockouts use, see accounts.lockouts), and either count reaching its limit locks sign-in
for the cool-off time, even with the right PIN.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.lockouts import client_address
from circulation.models import Hold, Loan, Patron
from circulation.selectors import hold_fetch_site
from collections_app.barcodes import MAX_LENGTH, normalise_barcode

SESSION_READER = "reader_id"
SESSION_PIN = "reader_pin_hash"

# Failures before sign-in locks, per card and per address (a school's or a township's readers
# may share one public address, hence the larger figure), and how long it stays locked.
CARD_FAILURE_LIMIT = settings.READER_SIGNIN_CARD_LIMIT
ADDRESS_FAILURE_LIMIT = settings.READER_SIGNIN_ADDRESS_LIMIT
COOLOFF_SECONDS = settings.READER_SIGNIN_COOLOFF_SECONDS

# Holds a reader may place online in an hour: enough for a reading list, not for a script.
HOLDS_PER_HOUR = 20
# Barcodes a reader may try at a self-service point in an hour: an armful of books and a few
# misreads, not a script guessing barcodes.
SELF_SERVICE_SCANS_PER_HOUR = 30


class SignInLocked(Exception):
    def __init__(self, minutes: int):
        self.minutes = minutes


def _keys(library, card: str, request) -> list[tuple[str, int]]:
    return [
        (f"reader-signin:card:{library.pk}:{card}", CARD_FAILURE_LIMIT),
        (f"reader-signin:addr:{client_address(request)}", ADDRESS_FAILURE_LIMIT),
    ]


def _locked(keys) -> bool:
    counts = cache.get_many([key for key, _limit in keys])
    return any(counts.get(key, 0) >= limit for key, limit in keys)


def _fail(keys) -> None:
    for key, _limit in keys:
        if cache.add(key, 1, COOLOFF_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, COOLOFF_SECONDS)


def _pin_fingerprint(patron: Patron) -> str:
    return salted_hmac("readers.accounts.pin", patron.pin, algorithm="sha256").hexdigest()


def authenticate_reader(request, *, library, card_number: str, pin: str) -> Patron | None:
    """The reader whose card and PIN these are, or None; raises SignInLocked when too many
    wrong PINs came for this card or from this address."""
    card = normalise_barcode(card_number or "")[:MAX_LENGTH]
    keys = _keys(library, card, request)
    if _locked(keys):
        raise SignInLocked(COOLOFF_SECONDS // 60)
    patron = Patron.objects.filter(library=library, card_number=card).first() if card else None
    # "!" is an unusable hash: check_password still runs the hasher once, so a card without a
    # PIN (or no such card) takes as long to refuse as a wrong PIN.
    encoded = patron.pin if patron is not None and patron.pin else "!"
    if not pin or not check_password(pin, encoded):
        _fail(keys)
        if _locked(keys):
            raise SignInLocked(COOLOFF_SECONDS // 60)
        return None
    cache.delete(keys[0][0])
    return patron


def sign_in(request, patron: Patron) -> None:
    """Start a reader session; a staff login in the same browser is left as it is."""
    request.session.cycle_key()
    request.session[SESSION_READER] = patron.pk
    request.session[SESSION_PIN] = _pin_fingerprint(patron)


def sign_out(request) -> None:
    request.session.pop(SESSION_READER, None)
    request.session.pop(SESSION_PIN, None)
    request.session.cycle_key()


def current_reader(request, library=None) -> Patron | None:
    """The signed-in reader (of `library`, when given), or None. A PIN changed since sign-in
    ends the session."""
    reader = getattr(request, "_reader", False)
    if reader is False:
        reader = None
        pk = request.session.get(SESSION_READER)
        if pk is not None:
            reader = Patron.objects.select_related("library", "home_site").filter(pk=pk).first()
            fingerprint = request.session.get(SESSION_PIN, "")
            if (
                reader is None
                or not reader.pin
                or not constant_time_compare(fingerprint, _pin_fingerprint(reader))
            ):
                sign_out(request)
                reader = None
        request._reader = reader
    if reader is not None and library is not None and reader.library_id != library.pk:
        return None
    return reader


def _count_in_hour(key: str, limit: int) -> bool:
    if cache.add(key, 1, 3600):
        return True
    try:
        return cache.incr(key) <= limit
    except ValueError:
        return cache.add(key, 1, 3600)


def hold_allowed(reader: Patron) -> bool:
    """Counts one hold placed online; False once the reader placed too many this hour."""
    return _count_in_hour(f"reader-holds:{reader.pk}", HOLDS_PER_HOUR)


def self_service_allowed(reader: Patron) -> bool:
    """Counts one barcode tried at a self-service point; False once too many came this hour."""
    return _count_in_hour(f"reader-self-service:{reader.pk}", SELF_SERVICE_SCANS_PER_HOUR)


# What the account page shows: only the reader's own loans and holds, nothing of other readers
# or of staff.


@dataclass
class AccountLoan:
    loan: Loan
    overdue: bool


def open_loans(reader: Patron, now=None) -> list[AccountLoan]:
    now = now or timezone.now()
    loans = (
        Loan.objects.open()
        .filter(patron=reader)
        .select_related("item__title", "site")
        .order_by("due_at", "pk")
    )
    return [AccountLoan(loan=loan, overdue=loan.due_at < now) for loan in loans]


def past_loans(reader: Patron, limit: int = 100):
    """Returned loans, only for a reader who keeps a reading history."""
    if not reader.keeps_reading_history:
        return []
    return list(
        Loan.objects.filter(patron=reader, returned_at__isnull=False)
        .select_related("item__title")
        .order_by("-returned_at")[:limit]
    )


def open_holds(reader: Patron, now=None):
    """The reader's open holds, each with its place in the queue (1 = next copy returned is
    theirs) while waiting, and whether a trapped copy is ready at the pickup site."""
    now = now or timezone.now()
    holds = list(
        Hold.objects.open()
        .filter(patron=reader)
        .select_related("title", "pickup_site", "item")
        .order_by("placed_at", "pk")
    )
    for hold in holds:
        hold.queue_position = None
        hold.ready = False
        hold.fetch_from = None
        if hold.is_waiting:
            ahead = Hold.objects.filter(
                library_id=hold.library_id,
                title_id=hold.title_id,
                status=Hold.Status.WAITING,
                expires_at__gt=now,
            ).aggregate(
                n=Count(
                    "pk",
                    filter=Q(placed_at__lt=hold.placed_at)
                    | Q(placed_at=hold.placed_at, pk__lt=hold.pk),
                )
            )["n"]
            hold.queue_position = ahead + 1
            # A free copy on another site's shelf is fetched for the readers in line; the
            # reader is told from where, nothing of the others.
            hold.fetch_from = hold_fetch_site(hold, now)
        elif hold.is_trapped:
            item = hold.item
            hold.ready = item.is_available and item.current_site_id == hold.pickup_site_id
    return holds


def open_hold_for(reader: Patron, title) -> Hold | None:
    return Hold.objects.open().filter(patron=reader, title=title).first()
