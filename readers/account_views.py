"""Reader accounts: sign in and out, my account (loans, renewals, holds, reading history) and the
electronic reader card (电子读者证). Thin views over the desk's own services
(circulation.services): the reader is passed as `reader`, with no staff user, so every refusal
is the desk's and the item's and hold's history say the reader did it."""

from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from circulation import selectors as circulation_selectors
from circulation.models import Hold, Loan
from circulation.services import holds, loans, patrons
from collections_app.errors import Refused

from . import accounts, selectors
from .e_card import barcode_svg, qr_svg
from .forms import HoldPlaceForm, SignInForm


def reader_required(view):
    """The signed-in reader of this library as `reader`; others go to the sign-in page."""

    @wraps(view)
    def wrapper(request, library, *args, **kwargs):
        library = selectors.get_catalogue_library(library)
        reader = accounts.current_reader(request, library)
        if reader is None:
            url = reverse("readers:sign-in", args=[library.code])
            return redirect(f"{url}?next={request.path}")
        return view(request, library, reader, *args, **kwargs)

    return never_cache(wrapper)


def _account(library):
    return redirect("readers:account", library.code)


@never_cache
def sign_in(request, library):
    library = selectors.get_catalogue_library(library)
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            reader = accounts.authenticate_reader(
                request,
                library=library,
                card_number=form.cleaned_data["card_number"],
                pin=form.cleaned_data["pin"],
            )
        except accounts.SignInLocked as locked:
            form.add_error(
                None,
                _("密码错误次数太多，请 %(minutes)s 分钟后再试，或到服务台重设密码。")
                % {"minutes": locked.minutes},
            )
            status = 429
        else:
            if reader is None:
                form.add_error(
                    None,
                    _("读者证号或密码不对。还没有密码的读者，请到服务台设置。"),
                )
            else:
                accounts.sign_in(request, reader)
                target = request.POST.get("next", "")
                if not url_has_allowed_host_and_scheme(
                    target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ) or not target.startswith(reverse("readers:home", args=[library.code])):
                    target = reverse("readers:account", args=[library.code])
                return redirect(target)
    return render(
        request,
        "readers/account/sign_in.html",
        {"library": library, "form": form, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def sign_out(request, library):
    library = selectors.get_catalogue_library(library)
    accounts.sign_out(request)
    messages.info(request, _("您已退出登录。"))
    return redirect("readers:home", library.code)


@reader_required
def account(request, library, reader):
    return render(
        request,
        "readers/account/account.html",
        {
            "library": library,
            "reader": reader,
            "loans": accounts.open_loans(reader),
            "holds": accounts.open_holds(reader),
            "past": accounts.past_loans(reader),
        },
    )


@require_POST
@reader_required
def renew(request, library, reader, pk):
    loan = get_object_or_404(
        Loan.objects.open().select_related("item__title", "site"), patron=reader, pk=pk
    )
    try:
        renewed = loans.loan_renew(
            user=None, site=loan.site, barcode=loan.item.barcode, reader=reader
        )
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("《%(title)s》已续借，新的应还日期 %(due)s。")
            % {
                "title": loan.item.title.title,
                "due": timezone.localtime(renewed.due_at).strftime("%Y-%m-%d"),
            },
        )
    return _account(library)


@require_POST
@reader_required
def hold_place(request, library, reader, pk):
    title = selectors.get_public_title(library, pk)
    form = HoldPlaceForm(request.POST, sites=selectors.public_sites(library))
    try:
        if not form.is_valid():
            raise Refused(_("请选择取书站点。"))
        if not accounts.hold_allowed(reader):
            raise Refused(_("您预约得太频繁了，请一小时后再试。"))
        hold = holds.hold_place(
            user=None,
            patron=reader,
            title=title,
            pickup_site=form.cleaned_data["pickup_site"],
            reader=reader,
        )
    except Refused as refused:
        messages.error(request, refused.message)
        return redirect("readers:title", library.code, title.pk)
    source = None if hold.is_trapped else circulation_selectors.hold_fetch_site(hold)
    if hold.is_trapped:
        text = _("已预约《%(title)s》，“%(site)s”有书，已为您留书，可以去取了。")
    elif source is not None:
        text = _(
            "已预约《%(title)s》：“%(source)s”架上有书，将调取送到“%(site)s”，"
            "到书后可在“我的账户”看到。"
        )
    else:
        text = _("已预约《%(title)s》，有书归还时将送到“%(site)s”，到书后可在“我的账户”看到。")
    messages.success(
        request,
        text
        % {
            "title": title.title,
            "site": hold.pickup_site.name,
            "source": source.name if source else "",
        },
    )
    return _account(library)


@require_POST
@reader_required
def hold_cancel(request, library, reader, pk):
    hold = get_object_or_404(Hold.objects.select_related("title"), patron=reader, pk=pk)
    try:
        holds.hold_cancel(user=None, hold=hold, reader=reader)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已取消《%(title)s》的预约。") % {"title": hold.title.title})
    return _account(library)


@require_POST
@reader_required
def reading_history(request, library, reader):
    keep = request.POST.get("keep") == "1"
    patrons.patron_keep_reading_history(reader=reader, keep=keep)
    if keep:
        messages.success(request, _("已开启借阅历史：归还的图书会列在这里。"))
    else:
        messages.success(request, _("已关闭借阅历史：这里只显示当前借阅。"))
    return _account(library)


@reader_required
def e_card(request, library, reader):
    return render(request, "readers/account/e_card.html", {"library": library, "reader": reader})


@reader_required
def e_card_image(request, library, reader, kind):
    if kind == "barcode":
        svg = barcode_svg(reader.card_number)
    elif kind == "qr":
        svg = qr_svg(reader.card_number)
    else:
        raise Http404
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response
