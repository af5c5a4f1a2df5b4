"""Circulation pages: the desk (checkout, return anywhere, renewal), readers, holds, overdue,
loan rules and closed days. Thin views: scope check → form → service → redirect or render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.scope import (
    can_cancel_hold,
    can_edit_patron,
    can_manage_library,
    can_prepare_period_report,
    can_see_readers,
    can_work_at_site,
    get_scoped_or_404,
    get_work_site_or_404,
    scoped,
)
from accounts.submissions import AlreadySubmitted, submitted_once
from circulation import dashboards, selectors
from circulation.forms import (
    ClosedDaysForm,
    HoldForm,
    ImportForm,
    LoanRuleForm,
    PatronForm,
    PatronSearchForm,
    SuspendForm,
)
from circulation.importing import read_patron_rows
from circulation.models import ClosedDay, Hold, Loan, LoanRule, Patron
from circulation.services import holds, loans, patrons, rules
from circulation.services.closed_days import closed_day_remove, closed_days_add
from circulation.services.holds import hold_ready
from circulation.services.routing import Action
from collections_app.barcodes import MAX_LENGTH, normalise_barcode
from collections_app.errors import Refused
from collections_app.models import Item, Site, Transfer
from collections_app.services.transfers import transfer_dispatch
from sharedloan.negotiation import wants_json

DESK_SITE_KEY = "circulation_desk_site"


@login_required
def home(request):
    context = dashboards.dashboard(request.user)
    context["returned_reports"] = _returned_reports(request.user)
    return render(request, "circulation/home.html", context)


def _returned_reports(user):
    """Period reports the province sent back to this county librarian, to fix and resubmit."""
    if not can_prepare_period_report(user):
        return []
    # Imported here: the reports app builds on circulation, not the other way round; the home
    # page only reads the county's own reports to say which ones came back.
    from reports.models import PeriodReport

    return list(
        PeriodReport.objects.filter(library=user.library, status=PeriodReport.Status.RETURNED)
        .select_related("consignment")
        .order_by("-starts_on")[:20]
    )


# Scope helpers


def _get_site_for_user(request, library_code, site_code):
    """A site where the user may work the desk: 404 when out of scope, 403 when read-only."""
    return get_work_site_or_404(request.user, library_code, site_code)


def _get_patron_for_user(request, pk):
    return get_scoped_or_404(
        Patron.objects.select_related("home_site", "library"), request.user, pk=pk
    )


def _desk_site(request):
    """The desk the user last worked at, else their first site; None when they have none."""
    sites = selectors.desk_sites(request.user)
    remembered = request.session.get(DESK_SITE_KEY)
    site = sites.filter(pk=remembered).first() if remembered else None
    return site or sites.first()


def _user_library(request):
    library = request.user.library
    if library is None or not can_manage_library(request.user, library):
        raise Http404
    return library


# The desk


@login_required
def desk(request):
    sites = list(selectors.desk_sites(request.user))
    if not sites:
        raise Http404
    site = _desk_site(request)
    if len(sites) == 1 or (site and request.GET.get("choose") is None):
        return redirect("circulation:desk-site", site.library.code, site.code)
    return render(request, "circulation/desk_choose.html", {"sites": sites})


def _desk_context(request, site, card="", mode="checkout", entry=None):
    patron = None
    if card:
        patron = (
            scoped(Patron.objects.select_related("home_site"), request.user)
            .filter(library=site.library, card_number=card)
            .first()
        )
    return {
        "site": site,
        "mode": mode,
        "patron": patron,
        "reader": _reader_panel(patron),
        "entries": [entry] if entry else [],
        "pending": _pending(request, site),
        "hold_shelf": selectors.hold_shelf(site),
        "other_sites": len(selectors.desk_sites(request.user)[:2]) > 1,
        "max_code": MAX_LENGTH,
    }


def _reader_panel(patron):
    if patron is None:
        return None
    loans_out = selectors.desk_loans(patron)
    return {
        "patron": patron,
        "loans": _loan_lines(loans_out),
        "count_line": _count_line(len(loans_out)),
    }


def _loan_lines(loans_out):
    """The panel's words for each loan, written here with the two phrases translated once:
    the template's date filter and two translation tags a line cost most of the panel's time."""
    now = timezone.now()
    title_line, due_line = _("《%(title)s》"), _("应还 %(due)s")
    for loan in loans_out:
        loan.overdue = loan.due_at < now
        loan.title_line = title_line % {"title": loan.title}
        loan.due_line = due_line % {"due": timezone.localtime(loan.due_at).strftime("%Y-%m-%d")}
        # The panel's order (due date, then loan), for the desk's script to place a new line.
        loan.order_key = f"{loan.due_at.timestamp():017.6f}-{loan.id:012d}"
    return loans_out


def _count_line(count):
    return ngettext("在借 %(counter)s 册", "在借 %(counter)s 册", count) % {"counter": count}


def _added_loan(request, entry, patron):
    """After a checkout, the new loan's line alone when the desk's panel already lists every
    other loan of the reader (the script sends how many lines it shows, and the count the
    checkout read under the reader's lock says how many there were): the panel is not read and
    rendered again for every book. None when the whole panel is to be sent.

    The number is what is compared: a change elsewhere during the visit that leaves it the same
    (a book of this reader returned and another lent at another desk, a renewal online) shows
    at the next whole panel — the next reader, a return or renewal here, a reload."""
    loans_out = getattr(patron, "loans_out", None)  # set by the checkout's count, not otherwise
    shown = request.POST.get("shown")
    loan = entry["loan"]
    if (
        entry["kind"] != "checkout"
        or entry["tone"] != "ok"
        or loans_out is None
        or shown != str(loans_out)
    ):
        return None
    line = selectors.DeskLoan(
        id=loan.pk,
        due_at=loan.due_at,
        barcode=entry["item"].barcode,
        title=entry["item"].title.title,
    )
    return {
        "line": render_to_string(
            "circulation/_desk_loan_lines.html", {"loans": _loan_lines([line])}
        ),
        "order": line.order_key,
        "count": _count_line(loans_out + 1),
    }


@login_required
def desk_site(request, library_code, site_code):
    site = _get_site_for_user(request, library_code, site_code)
    request.session[DESK_SITE_KEY] = site.pk
    mode = request.GET.get("mode", "checkout")
    if mode not in ("checkout", "return", "renew"):
        mode = "checkout"
    card = normalise_barcode(request.GET.get("card", ""))[:MAX_LENGTH]
    return render(request, "circulation/desk.html", _desk_context(request, site, card, mode))


def _entry(tone, message, *, item=None, instruction="", action="", loan=None, kind=""):
    return {
        "tone": tone,
        "message": message,
        "item": item,
        "instruction": instruction,
        "action": action,
        "loan": loan,
        "kind": kind,
        "hold": False,
        "at": timezone.now(),
    }


def _find_card(site, code):
    if not code or len(code) > MAX_LENGTH:
        return None
    return (
        Patron.objects.select_related("home_site")
        .filter(library_id=site.library_id, card_number=code)
        .first()
    )


def _scan(request, site, mode, card, code):
    """One scan at the desk: returns (entry, the card now loaded, and the reader to show again:
    a Patron, True to look it up by card, or False when the reader panel stays as it is)."""
    if not code:
        return _entry("warn", _("没有读到条码，请重新扫描。")), card, False
    if len(code) > MAX_LENGTH:
        return _entry("error", _("条码太长，请检查后重新扫描。")), card, False
    if mode == "return":
        try:
            done = loans.loan_return(user=request.user, site=site, barcode=code)
        except Refused as refused:
            return _entry("error", refused.message, kind="return"), card, False
        routing = done.routing
        message = (
            _("《%(title)s》之前已经归还。") if done.already else _("《%(title)s》已归还。")
        ) % {"title": done.item.title.title}
        tone = "info" if done.already else "ok"
        entry = _entry(
            tone,
            message,
            item=done.item,
            instruction=routing.message,
            action=routing.action,
            loan=done.loan,
            kind="return",
        )
        # The reader at the desk returned it: their panel loses the loan at once.
        returned_by_reader = (
            bool(card) and done.loan is not None and done.loan.patron.card_number == card
        )
        return entry, card, returned_by_reader
    if mode == "renew":
        try:
            loan = loans.loan_renew(user=request.user, site=site, barcode=code)
        except Refused as refused:
            return _entry("error", refused.message, kind="renew"), card, False
        message = _("《%(title)s》已续借，新的应还日期 %(due)s。") % {
            "title": loan.item.title.title,
            "due": timezone.localtime(loan.due_at).strftime("%Y-%m-%d"),
        }
        changed = bool(card) and loan.patron.card_number == card
        return _entry("ok", message, item=loan.item, loan=loan, kind="renew"), card, changed

    # Checkout: the first scan is the reader's card; a card scanned later switches reader.
    if not card:
        patron = _find_card(site, code)
        if patron is None:
            if Item.objects.filter(library_id=site.library_id, barcode=code).exists():
                return _entry("warn", _("请先扫描读者证，再扫描图书。")), "", False
            return _entry("error", _("找不到读者证号 %(code)s。") % {"code": code}), "", False
        return _reader_entry(patron), patron.card_number, patron
    try:
        done = loans.loan_checkout(user=request.user, site=site, card_number=card, barcode=code)
    except Refused as refused:
        other = _find_card(site, code)
        if other is not None:
            return _reader_entry(other), other.card_number, other
        if _find_card(site, card) is None:
            message = _("读者证号 %(code)s 已失效，请重新扫描读者证。") % {"code": card}
            return _entry("error", message), "", True
        return _entry("error", refused.message, kind="checkout"), card, False
    if done.already:
        message = _("《%(title)s》已经借给这位读者，无需重复扫描。")
        tone = "info"
    else:
        message = _("已借出《%(title)s》，应还日期 %(due)s。")
        tone = "ok"
    message = message % {
        "title": done.item.title.title,
        "due": timezone.localtime(done.loan.due_at).strftime("%Y-%m-%d"),
    }
    if done.hold is not None:
        message += _("（预约已取书）")
    entry = _entry(tone, message, item=done.item, loan=done.loan, kind="checkout")
    entry["hold"] = done.hold is not None
    return entry, card, done.loan.patron


def _reader_entry(patron):
    if patron.is_suspended:
        return _entry(
            "warn",
            _("读者 %(name)s（%(card)s）的借书证已暂停：%(reason)s")
            % {
                "name": patron.name,
                "card": patron.card_number,
                "reason": patron.suspended_reason,
            },
            kind="reader",
        )
    return _entry(
        "info",
        _("读者 %(name)s（%(card)s），请扫描图书。")
        % {"name": patron.name, "card": patron.card_number},
        kind="reader",
    )


@login_required
@require_POST
def desk_scan(request, library_code, site_code):
    site = _get_site_for_user(request, library_code, site_code)
    mode = request.POST.get("mode", "checkout")
    if mode not in ("checkout", "return", "renew"):
        mode = "checkout"
    card = normalise_barcode(request.POST.get("card", ""))[: MAX_LENGTH + 1]
    code = normalise_barcode(request.POST.get("code", ""))
    if card and len(card) > MAX_LENGTH:
        card = ""
    entry, card, reader_changed = _scan(request, site, mode, card, code)
    if not wants_json(request):
        return render(
            request, "circulation/desk.html", _desk_context(request, site, card, mode, entry)
        )
    payload = {
        "tone": entry["tone"],
        "message": str(entry["message"]),
        "instruction": str(entry["instruction"]),
        "action": entry["action"],
        "card": card,
        # Partials without the request: no context processors (navigation, messages) to run
        # for a fragment that needs none of them, on the path every scan takes.
        "entry": render_to_string("circulation/_desk_entry.html", {"entry": entry}),
    }
    added = None
    if isinstance(reader_changed, Patron):
        added = _added_loan(request, entry, reader_changed)
    if added is not None:
        payload["loan"] = added
    elif reader_changed is not False:
        patron = reader_changed if isinstance(reader_changed, Patron) else None
        if reader_changed is True and card:
            patron = _find_card(site, card)
        payload["reader"] = render_to_string(
            "circulation/_desk_reader.html",
            {"reader": _reader_panel(patron), "site": site, "csrf_token": get_token(request)},
        )
    if _piles_changed(entry):
        payload["piles"] = render_to_string(
            "circulation/_desk_piles.html",
            {
                "site": site,
                "pending": _pending(request, site),
                "hold_shelf": selectors.hold_shelf(site),
                "csrf_token": get_token(request),
            },
        )
    return JsonResponse(payload)


def _piles_changed(entry) -> bool:
    """Whether a scan changed what waits to be sent or picked up here: a return put the volume
    on a draft or the hold shelf, or a checkout took it off one."""
    if entry["tone"] != "ok":
        return False
    if entry["kind"] == "return":
        return entry["action"] not in (Action.SHELVE, Action.DISPLAY)
    if entry["kind"] == "checkout":
        return entry["hold"] or bool(getattr(entry["item"], "on_transfer", False))
    return False


def _pending(request, site):
    return selectors.pending_dispatches(request.user, site).annotate(item_count=Count("lines"))


@login_required
@require_POST
def desk_dispatch(request, library_code, site_code, transfer_id):
    site = _get_site_for_user(request, library_code, site_code)
    transfer = get_scoped_or_404(
        Transfer.objects.select_related("destination"),
        request.user,
        pk=transfer_id,
        source=site,
    )
    try:
        transfer_dispatch(user=request.user, transfer=transfer)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            _("调拨单 #%(id)s 已发出，送往“%(site)s”。")
            % {"id": transfer.pk, "site": transfer.destination.name},
        )
    return redirect("circulation:desk-site", site.library.code, site.code)


@login_required
@require_http_methods(["GET", "POST"])
def holds_to_pull(request, library_code, site_code):
    """待取预约书: the holds a free copy on this site's shelf can fill, printable as a pick list;
    the scan box traps a copy taken off the shelf for its reader."""
    site = _get_site_for_user(request, library_code, site_code)
    if request.method == "POST":
        try:
            routing = holds.hold_pull(
                user=request.user, site=site, barcode=request.POST.get("code", "")
            )
        except Refused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, routing.message)
        return redirect("circulation:holds-to-pull", site.library.code, site.code)
    pulls = selectors.holds_to_pull(site)
    return render(
        request,
        "circulation/holds_to_pull.html",
        {"site": site, "pulls": pulls, "max_code": MAX_LENGTH, "now": timezone.now()},
    )


# Readers


@login_required
def patron_list(request):
    form = PatronSearchForm(request.GET)
    all_patrons = selectors.patrons_for(request.user)
    if not (request.user.is_superuser or all_patrons.exists() or _may_register(request)):
        raise Http404
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = selectors.patron_search(request.user, query) if query else all_patrons
    if query:
        exact = found.filter(card_number=query)
        if exact.count() == 1 and found.count() == 1:
            return redirect("circulation:patron-detail", exact.get().pk)
    page = Paginator(found.order_by("card_number"), 50).get_page(request.GET.get("page"))
    ctx = {
        "form": form,
        "page": page,
        "query": query,
        "may_register": _may_register(request),
        "may_import": request.user.library is not None
        and can_manage_library(request.user, request.user.library),
    }
    return render(request, "circulation/patron_list.html", ctx)


def _may_register(request):
    return selectors.desk_sites(request.user).exists()


@login_required
def patron_create(request):
    sites = selectors.desk_sites(request.user)
    if not sites.exists():
        raise Http404
    form = PatronForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        key = data.pop("submission")
        try:
            with submitted_once(request.user, key, "patron") as claim:
                patron = patrons.patron_register(
                    user=request.user, library=data["home_site"].library, **data
                )
                claim.done(reverse("circulation:patron-detail", args=[patron.pk]))
        except AlreadySubmitted as first:
            messages.info(request, first.message)
            return redirect(first.url)
        except Refused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("已为 %(name)s 办证。") % {"name": patron.name})
            return redirect("circulation:patron-detail", patron.pk)
    return render(request, "circulation/patron_form.html", {"form": form, "patron": None})


@login_required
def patron_detail(request, pk):
    patron = _get_patron_for_user(request, pk)
    # The whole loan here (site, checkout time, renewals): not the desk panel's short lines.
    loans, now = list(selectors.open_loans(patron)), timezone.now()
    for loan in loans:
        loan.overdue = loan.due_at < now
    hold_rows = list(selectors.patron_holds(patron))
    for hold in hold_rows:
        hold.patron = patron
        hold.ready = hold_ready(hold)
        hold.may_cancel = can_cancel_hold(request.user, hold)
        hold.fetch_from = selectors.hold_fetch_site(hold) if hold.is_waiting else None
    sites = selectors.desk_sites(request.user).filter(library=patron.library)
    ctx = {
        "patron": patron,
        "loans": loans,
        "history": (
            selectors.past_loans(patron) if can_see_readers(request.user, patron.library) else None
        ),
        "holds": hold_rows,
        "hold_form": HoldForm(sites=sites, initial={"pickup_site": patron.home_site_id}),
        "suspend_form": SuspendForm(),
        "may_edit": can_edit_patron(request.user, patron),
        "may_lend": sites.exists(),
    }
    return render(request, "circulation/patron_detail.html", ctx)


@login_required
def patron_edit(request, pk):
    patron = _get_patron_for_user(request, pk)
    if not can_edit_patron(request.user, patron):
        raise PermissionDenied
    sites = selectors.desk_sites(request.user).filter(library=patron.library)
    form = PatronForm(request.POST or None, instance=patron, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            patrons.patron_update(
                user=request.user,
                patron=patron,
                **{name: form.cleaned_data[name] for name in patrons.EDITABLE},
            )
        except Refused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("读者信息已保存。"))
            return redirect("circulation:patron-detail", patron.pk)
    return render(request, "circulation/patron_form.html", {"form": form, "patron": patron})


@login_required
@require_POST
def patron_suspend(request, pk):
    patron = _get_patron_for_user(request, pk)
    form = SuspendForm(request.POST)
    try:
        if not form.is_valid():
            raise Refused(_("请写明暂停原因（最多 200 字）。"))
        patrons.patron_suspend(user=request.user, patron=patron, reason=form.cleaned_data["reason"])
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已暂停 %(name)s 的借书证。") % {"name": patron.name})
    return redirect("circulation:patron-detail", patron.pk)


@login_required
@require_POST
def patron_reinstate(request, pk):
    patron = _get_patron_for_user(request, pk)
    try:
        patrons.patron_reinstate(user=request.user, patron=patron)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已恢复 %(name)s 的借书证。") % {"name": patron.name})
    return redirect("circulation:patron-detail", patron.pk)


@login_required
def patron_import(request):
    library = _user_library(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = read_patron_rows(upload.name, upload.read(10 * 1024 * 1024 + 1))
            count = patrons.patron_import(user=request.user, library=library, rows=rows)
        except Refused as refused:
            form.add_error(None, refused.message)
            problems = refused.problems
        else:
            messages.success(request, _("已导入 %(n)s 位读者。") % {"n": count})
            return redirect("circulation:patron-list")
    return render(request, "circulation/patron_import.html", {"form": form, "problems": problems})


@login_required
@require_POST
def patron_pin(request, pk):
    """Set or reset the reader's PIN for the online account, from the reader page or the desk
    (with `site`, the desk's site code: back to the desk with the reader still loaded)."""
    patron = _get_patron_for_user(request, pk)
    site = None
    code = request.POST.get("site", "")[:32]
    if code:
        site = selectors.desk_sites(request.user).filter(library=patron.library, code=code).first()
    if site is None and not can_edit_patron(request.user, patron):
        raise PermissionDenied
    try:
        patrons.patron_set_pin(
            user=request.user, patron=patron, pin=request.POST.get("pin", "").strip(), site=site
        )
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已为 %(name)s 设置读者密码。") % {"name": patron.name})
    if site is not None:
        url = reverse("circulation:desk-site", args=[site.library.code, site.code])
        return redirect(f"{url}?card={patron.card_number}")
    return redirect("circulation:patron-detail", patron.pk)


# Loans and holds from the reader page


@login_required
@require_POST
def loan_renew(request, pk):
    loan = get_scoped_or_404(Loan.objects.select_related("item", "site"), request.user, pk=pk)
    lent_at = loan.site
    site = lent_at if lent_at.is_active and can_work_at_site(request.user, lent_at) else None
    site = site or _desk_site(request)
    if site is None:
        raise PermissionDenied
    try:
        renewed = loans.loan_renew(user=request.user, site=site, barcode=loan.item.barcode)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("已续借，新的应还日期 %(due)s。")
            % {"due": timezone.localtime(renewed.due_at).strftime("%Y-%m-%d")},
        )
    return redirect("circulation:patron-detail", loan.patron_id)


@login_required
@require_POST
def hold_create(request, pk):
    patron = _get_patron_for_user(request, pk)
    sites = selectors.desk_sites(request.user).filter(library=patron.library)
    form = HoldForm(request.POST, sites=sites)
    try:
        if not form.is_valid():
            raise Refused(_("请填写图书条码或 ISBN，并选择取书站点。"))
        title = holds.hold_title(library=patron.library, code=form.cleaned_data["code"])
        hold = holds.hold_place(
            user=request.user,
            patron=patron,
            title=title,
            pickup_site=form.cleaned_data["pickup_site"],
        )
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        source = None if hold.is_trapped else selectors.hold_fetch_site(hold)
        if hold.is_trapped:
            text = _("《%(title)s》在“%(site)s”有书，已为读者留书，请到预约架取。")
        elif source is not None:
            text = _("已预约《%(title)s》：“%(source)s”架上有书，将调取送到“%(site)s”。")
        else:
            text = _("已预约《%(title)s》，有书归还时将送到“%(site)s”。")
        messages.success(
            request,
            text
            % {
                "title": title.title,
                "site": hold.pickup_site.name,
                "source": source.name if source else "",
            },
        )
    return redirect("circulation:patron-detail", patron.pk)


@login_required
@require_POST
def hold_cancel(request, pk):
    hold = get_scoped_or_404(Hold.objects.select_related("library"), request.user, pk=pk)
    if not can_cancel_hold(request.user, hold):
        raise PermissionDenied
    try:
        holds.hold_cancel(user=request.user, hold=hold)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("预约已取消。"))
    return redirect("circulation:patron-detail", hold.patron_id)


# Overdue


OVERDUE_PER_PAGE = 100
NOTICES_PER_PAGE = 50


def _overdue_loans(request):
    """The overdue loans the user may chase, at one site when ?site= names one of theirs."""
    sites = selectors.desk_sites(request.user)
    site = None
    code = request.GET.get("site", "")
    if code:
        site = sites.filter(code=code[:32]).first()
        if site is None:
            raise Http404
    return sites, site, selectors.overdue_loans(request.user, site)


def _with_days(loans):
    now = timezone.now()
    for loan in loans:
        loan.days = selectors.days_overdue(loan, now)
    return loans


@login_required
def overdue(request):
    if not selectors.desk_sites(request.user).exists():
        raise Http404
    sites, site, loans = _overdue_loans(request)
    # Every overdue loan is on some page and the heading counts all of them, not one page.
    page = Paginator(loans, OVERDUE_PER_PAGE).get_page(request.GET.get("page"))
    rows = _with_days(list(page.object_list))
    return render(
        request,
        "circulation/overdue.html",
        {
            "sites": sites,
            "site": site,
            "loans": rows,
            "page": page,
            "total": page.paginator.count,
            "query": f"site={site.code}" if site else "",
        },
    )


@login_required
def overdue_notices(request):
    if not selectors.desk_sites(request.user).exists():
        raise Http404
    _sites, site, loans = _overdue_loans(request)
    # One notice per reader, a page of readers at a time, so every reader gets one.
    patron_ids = loans.order_by("patron__card_number").values_list("patron_id", flat=True)
    page = Paginator(patron_ids.distinct(), NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    rows = _with_days(list(loans.filter(patron_id__in=list(page.object_list))))
    by_patron = {}
    for loan in rows:
        by_patron.setdefault(loan.patron_id, {"patron": loan.patron, "loans": []})
        by_patron[loan.patron_id]["loans"].append(loan)
    notices = sorted(by_patron.values(), key=lambda notice: notice["patron"].card_number)
    return render(
        request,
        "circulation/overdue_notices.html",
        {
            "site": site,
            "notices": notices,
            "today": timezone.localdate(),
            "page": page,
            "query": f"site={site.code}" if site else "",
        },
    )


# Loan rules and closed days (county librarians)


@login_required
def loan_rules(request):
    library = _user_library(request)
    rule_rows = list(LoanRule.objects.filter(library=library))
    editing = None
    if request.GET.get("edit"):
        editing = next((r for r in rule_rows if str(r.pk) == request.GET["edit"]), None)
    form = LoanRuleForm(request.POST or None, instance=editing)
    if request.method == "POST":
        if "id" in request.POST:
            editing = next((r for r in rule_rows if str(r.pk) == request.POST["id"]), None)
            if editing is None:
                raise Http404
            form = LoanRuleForm(request.POST, instance=editing)
        if form.is_valid():
            try:
                rules.loan_rule_save(
                    user=request.user, library=library, rule=editing, **form.cleaned_data
                )
            except Refused as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("借阅规则已保存。"))
                return redirect("circulation:loan-rules")
    return render(
        request,
        "circulation/loan_rules.html",
        {"rules": rule_rows, "form": form, "editing": editing, "library": library},
    )


@login_required
def closed_days(request):
    library = _user_library(request)
    sites = Site.objects.filter(library=library, is_active=True)
    form = ClosedDaysForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            added = closed_days_add(
                user=request.user,
                library=library,
                site=data["site"],
                first=data["first"],
                last=data["last"],
                reason=data["reason"],
            )
        except Refused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("已登记 %(n)s 个闭馆日。") % {"n": added})
            return redirect("circulation:closed-days")
    days = (
        ClosedDay.objects.filter(library=library, date__gte=timezone.localdate())
        .select_related("site")
        .order_by("date", "site__name")
    )
    return render(
        request,
        "circulation/closed_days.html",
        {"form": form, "days": days[:500], "library": library},
    )


@login_required
@require_POST
def closed_day_delete(request, pk):
    library = _user_library(request)
    day = ClosedDay.objects.filter(library=library, pk=pk).first()
    if day is None:
        raise Http404
    closed_day_remove(user=request.user, day=day)
    messages.success(request, _("已删除 %(date)s 的闭馆日。") % {"date": day.date})
    return redirect("circulation:closed-days")
