"""Self-service borrowing for readers: the page a site's QR poster opens. The signed-in reader
types or scans (with the phone's camera, static/js/self-service.js) a volume's barcode; the form
posts the same either way and works without JavaScript."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from collections_app.errors import Refused

from . import accounts, selectors, services
from .forms import SelfServiceForm


@never_cache
@require_http_methods(["GET", "POST"])
def self_service(request, library, token):
    library = selectors.get_catalogue_library(library)
    site = services.site_for_poster(library, token)
    if site is None:
        # An old poster, a site where self-service is off, or a made-up address: the page
        # offers no borrowing at all.
        return render(request, "readers/self_service_closed.html", {"library": library}, status=404)
    reader = accounts.current_reader(request, library)
    if reader is None:
        url = reverse("readers:sign-in", args=[library.code])
        return redirect(f"{url}?next={request.path}")
    form = SelfServiceForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            _borrow(request, reader, site, form.cleaned_data["barcode"])
        else:
            messages.error(request, _("请扫描或输入图书条码。"))
        return redirect(request.path)
    return render(
        request,
        "readers/self_service.html",
        {
            "library": library,
            "reader": reader,
            "site": site,
            "form": form,
            "loans": accounts.open_loans(reader),
        },
    )


def _borrow(request, reader, site, barcode) -> None:
    try:
        if not accounts.self_service_allowed(reader):
            raise Refused(_("您扫描得太频繁了，请稍后再试，或请馆员帮忙。"))
        checkout = services.self_service_checkout(reader=reader, site=site, barcode=barcode)
    except Refused as refused:
        messages.error(request, refused.message)
        return
    texts = {
        "title": checkout.item.title.title,
        "due": timezone.localtime(checkout.loan.due_at).strftime("%Y-%m-%d"),
    }
    if checkout.already:
        messages.info(request, _("《%(title)s》已经借给您了，应还日期 %(due)s。") % texts)
    else:
        messages.success(
            request, _("已借《%(title)s》，应还日期 %(due)s。还书请交给馆员或投入还书箱。") % texts
        )
