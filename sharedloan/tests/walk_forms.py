"""Valid data for every form the walk meets, by the URL name the form posts to.

A form not named here gets what its fields ask for: the first choice of a select, today for a
date, 1 for a number, a short text. A form named here gets values read from the database in its
present state (a volume that may go on this transfer, a card of this site's library), or None
when nothing valid exists right now, which the walk notes instead of submitting."""

import itertools
import re
from datetime import date, timedelta

# Forms that end something come after the others on the same page, so that the rest are still
# there to submit.
LAST = ("cancel", "delete", "suspend", "remove", "sign-off", "dispatch", "send", "unpack", "run")

TODAY = date.today
FORMSET_ROW = re.compile(r"-\d+-")
# The admin's form of one row, new or existing.
ADMIN_ROW = re.compile(r"^admin:.*:(add|change)$")


class Fill:
    def __init__(self):
        self.counter = itertools.count(1)
        self.submitted = set()  # (page, form) URL names: each submitted once per user

    def order(self, form_key, form):
        if form["method"] == "get":
            return 0
        if form["scan"]:
            return 1
        return 3 if any(word in form_key for word in LAST) else 2

    def values(self, walk, form_key, form):
        special = SPECIAL.get(form_key)
        values = generic(form, next(self.counter), admin_row=ADMIN_ROW.search(form_key))
        if special is not None:
            extra = special(walk, form)
            if extra is None:
                return None
            values.update(extra)
        return values


def generic(form, n, admin_row=False):
    """What a person enters where a field asks for it. In the admin's form of a row they leave an
    optional choice as it is: its first option is seldom right for this row (a provincial
    library as its own province, a county library for the superuser's own account)."""
    values = {}
    seen = set()
    for field in form["fields"]:
        name = field["name"]
        if name in seen or FORMSET_ROW.search(name):
            continue  # the rows of a formset: their form's own values say which to fill
        seen.add(name)
        group = [f for f in form["fields"] if f["name"] == name]
        kind = field["type"]
        if kind in ("radio", "checkbox"):
            if not any(f["checked"] for f in group) and (kind == "radio" or field["required"]):
                values[name] = group[0]["value"]
            continue
        if field["value"] or (form["method"] == "get" and field["tag"] != "select"):
            continue  # a filter left open is a valid filter
        if field["tag"] == "select":
            if admin_row and not field["required"]:
                continue
            options = [o for o in field["options"] if o]
            # A filter narrows by one choice at a time; a form asks for each of its own.
            if options and not (form["method"] == "get" and values):
                values[name] = options[0]
        elif kind == "date":
            values[name] = TODAY().isoformat()
        elif kind == "time":
            values[name] = "09:00"
        elif kind == "month":
            values[name] = (TODAY().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        elif kind == "number":
            values[name] = "1"
        elif kind == "file":
            continue
        elif kind == "password":
            # A new account's password and its confirmation (required by the server, not by
            # the browser): the same long one in both.
            values[name] = f"walk-{n}-password-of-a-new-account"
        elif field["required"]:
            values[name] = f"W{n}"
    return values


SPECIAL = {}


# Values read from the database: what a librarian at this desk, on this transfer, would scan.


def _site(path):
    """The site a page is about, from /desk/<library>/<site>/… or a transfer, display, box."""
    from collections_app.models import Site

    parts = [p for p in path.split("/") if p]
    if parts[0] == "desk":
        return Site.objects.get(library__code=parts[1], code=parts[2])
    return None


def _free_items(library, site=None):
    """Volumes on a shelf that nothing holds: not on a transfer, a display, a hold or a box."""
    from circulation.models import Hold
    from collections_app.models import Item, TransferLine

    items = Item.objects.filter(library=library, status=Item.Status.AVAILABLE, display=None)
    if site is not None:
        items = items.filter(current_site=site)
    held = Hold.objects.exclude(item=None).filter(closed_at=None).values("item")
    on_transfer = TransferLine.objects.filter(is_open=True).values("item")
    items = items.exclude(pk__in=held).exclude(pk__in=on_transfer)
    if hasattr(Item, "box"):
        items = items.filter(box=None)
    return items.order_by("barcode")


def desk_scan(walk, form):
    from circulation.models import Loan, Patron

    site = _site(form["action"])
    busy = Loan.objects.filter(returned_at=None).values("patron")
    reader = (
        Patron.objects.filter(library=site.library, is_suspended=False)
        .exclude(pk__in=busy)
        .order_by("card_number")
        .first()
    )
    item = _free_items(site.library, site).first()
    if reader is None or item is None:
        return None
    return {"code": [reader.card_number, item.barcode]}


def _transfer(form):
    from collections_app.models import Transfer

    return Transfer.objects.get(pk=int(form["action"].split("/")[3]))


def transfer_add_scan(walk, form):
    transfer = _transfer(form)
    item = _free_items(transfer.library, transfer.source).first()
    return None if item is None else {"barcode": item.barcode}


def transfer_fill(walk, form):
    # One volume of any class from the source: the filters left open.
    return dict.fromkeys(("clc_top", "consignment", "idle_days"), "") | {"count": "1"}


def display_scan(walk, form):
    from collections_app.models import Display

    display = Display.objects.get(pk=int(form["action"].split("/")[3]))
    item = _free_items(display.site.library, display.site).first()
    return None if item is None else {"barcode": item.barcode, "action": "place"}


def box_pack(walk, form):
    from collections_app.models import Box

    box = Box.objects.get(code=form["action"].split("/")[3])
    packed = box.items.first()
    sites = [packed.current_site] if packed else walk.user.sites.all()
    items = _free_items(box.library)
    if packed or sites:
        items = items.filter(current_site__in=sites)
    item = items.first()
    return None if item is None else {"barcode": item.barcode}


def hold_create(walk, form):
    from circulation.models import Hold, Loan

    patron_id = int(form["action"].split("/")[2])
    held = Hold.objects.filter(patron_id=patron_id).values("item")
    loan = (
        Loan.objects.filter(returned_at=None, item__library=walk.user.library)
        .exclude(patron_id=patron_id)
        .exclude(item__in=held)
        .order_by("pk")
        .first()
    )
    return None if loan is None else {"code": loan.item.barcode}


def _options(form, name):
    field = next(f for f in form["fields"] if f["name"] == name)
    return [o for o in field["options"] if o]


def transfer_new(walk, form):
    sites = _options(form, "source")
    return {"source": sites[0], "destination": _options(form, "destination")[1]}


def rotation_new(walk, form):
    sites = _options(form, "stops-0-site")
    values = {"name": f"W{next(WALK_NAMES)}"}
    for n in range(3):
        stay = {"site": sites[n], "stay_days": "30", "stay_loans": "", "capacity": "50"}
        if n == 2:
            stay = dict.fromkeys(stay, "")
        values |= {f"stops-{n}-{key}": value for key, value in stay.items()}
    return values


WALK_NAMES = itertools.count(1)


def unique(prefix):
    return lambda walk, form: {"code": f"{prefix}{next(WALK_NAMES):03}"}


def patron_create(walk, form):
    n = next(WALK_NAMES)
    return {"card_number": f"WALK{n:04}", "name": f"W{n}", "birth_year": "2010", "phone": ""}


def patron_import(walk, form):
    from accounts.models import User

    user = User.objects.get(pk=walk.user.pk)
    site = user.library.sites.order_by("pk").first()
    n = next(WALK_NAMES)
    body = f"读者证号,姓名,读者类型,办证站点\nWALKI{n:03},W{n},adult,{site.code}\n"
    return {"file": {"name": "readers.csv", "mimeType": "text/csv", "buffer": body.encode()}}


def consignment_announce(walk, form):
    n = next(WALK_NAMES)
    return {
        "reference": f"WALK-{n:03}",
        "agreement_date": TODAY().isoformat(),
        "term_ends_on": (TODAY() + timedelta(days=3 * 365)).isoformat(),
        "expected_count": "100",
    }


def closed_days(walk, form):
    day = (TODAY() + timedelta(days=60 + next(WALK_NAMES))).isoformat()
    return {"first": day, "last": day, "reason": "W"}


def loan_rules(walk, form):
    return {"loan_days": "30", "max_items": "10", "max_renewals": "2", "hold_pickup_days": "7"}


def password_change(walk, form):
    from sharedloan.tests.browser_steps import DEMO_PASSWORD

    # The same password again: the walks after this one still sign in with it.
    return dict.fromkeys(("old_password", "new_password1", "new_password2"), DEMO_PASSWORD)


def display_new(walk, form):
    return {
        "name": f"W{next(WALK_NAMES)}",
        "starts_on": TODAY().isoformat(),
        "ends_on": (TODAY() + timedelta(days=30)).isoformat(),
    }


def consignment_import(walk, form):
    from collections_app.tests.manifest_files import csv_bytes, rows

    n = next(WALK_NAMES)
    manifest = rows(2, start=n * 10, prefix="WK21")
    walk.data.add(*(value for row in manifest for value in row))  # titles the import shows
    body = csv_bytes(manifest)
    return {"file": {"name": "manifest.csv", "mimeType": "text/csv", "buffer": body}}


def patron_pin(walk, form):
    return {"pin": "2468"}  # four to eight digits


def labels(walk, form):
    return {"status": ""}


SPECIAL.update(
    {
        "circulation:desk-scan": desk_scan,
        "circulation:patron-create": patron_create,
        "circulation:patron-import": patron_import,
        "circulation:loan-rules": loan_rules,
        "circulation:closed-days": closed_days,
        "circulation:hold-create": hold_create,
        "circulation:patron-pin": patron_pin,
        "collections:transfer-add-scan": transfer_add_scan,
        "collections:transfer-fill": transfer_fill,
        "collections:transfer-new": transfer_new,
        "collections:display-scan": display_scan,
        "collections:display-new": display_new,
        "collections:box-pack": box_pack,
        "collections:box-list": unique("WB"),
        "collections:rotation-new": rotation_new,
        "collections:consignment-import": consignment_import,
        "collections:consignment-announce": consignment_announce,
        "collections:consignment-labels": labels,
        "accounts:password-change": password_change,
        "admin:password_change": password_change,
    }
)
