"""The staff side of self-service borrowing: a site's page where the county librarian turns it
on or off, and the QR poster to hang at the site. Readers never reach these pages (they are
behind the staff sign-in, like every other staff page)."""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scope import (
    can_see_staff_names,
    can_switch_self_service,
    can_work_at_site,
    get_scoped_or_404,
)
from collections_app.errors import Refused
from collections_app.models import Site

from . import services
from .models import SelfServicePoint


def _get_site_for_user(request, library_code, site_code):
    return get_scoped_or_404(
        Site.objects.select_related("library"),
        request.user,
        library__code=library_code,
        code=site_code,
    )


def _point(site):
    return SelfServicePoint.objects.select_related("changed_by").filter(site=site).first()


@login_required
def site_self_service(request, library_code, site_code):
    site = _get_site_for_user(request, library_code, site_code)
    point = _point(site)
    return render(
        request,
        "readers/staff/self_service.html",
        {
            "site": site,
            "point": point,
            "can_switch": can_switch_self_service(request.user, site),
            # The lender and the province see that it was set, not by whom.
            "show_who": can_see_staff_names(request.user, site.library),
            "can_print": point is not None
            and point.enabled
            and can_work_at_site(request.user, site),
        },
    )


@login_required
@require_POST
def site_self_service_switch(request, library_code, site_code):
    site = _get_site_for_user(request, library_code, site_code)
    if not can_switch_self_service(request.user, site):
        raise PermissionDenied
    enabled = request.POST.get("enabled") == "1"
    try:
        services.self_service_set(user=request.user, site=site, enabled=enabled)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        if enabled:
            messages.success(request, _("已开通自助借书。请打印新的二维码海报，贴在站点的书架旁。"))
        else:
            messages.success(request, _("已关闭自助借书，站点的二维码海报不再能借书。"))
    return redirect("selfservice:site", site.library.code, site.code)


@login_required
def site_self_service_poster(request, library_code, site_code):
    site = _get_site_for_user(request, library_code, site_code)
    point = _point(site)
    if not can_work_at_site(request.user, site):
        raise PermissionDenied
    if point is None or not point.enabled:
        messages.error(request, _("这个站点没有开通自助借书，没有海报。"))
        return redirect("selfservice:site", site.library.code, site.code)
    url = request.build_absolute_uri(
        reverse("readers:self-service", args=[site.library.code, services.poster_token(point)])
    )
    return render(
        request,
        "readers/staff/self_service_poster.html",
        {
            "site": site,
            "url": url,
            "qr": segno.make_qr(url, error="m").svg_data_uri(scale=8, border=4),
        },
    )
