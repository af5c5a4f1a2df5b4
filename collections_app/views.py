from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.scope import (
    can_move_volumes,
    can_see_readers,
    can_see_staff_names,
    can_work_at_site,
    get_scoped_or_404,
    visible_library_ids,
)
from collections_app import selectors
from collections_app.filters import ItemFilter
from collections_app.models import Item, Site


def _get_site_for_user(request, library_code, site_code):
    return get_scoped_or_404(
        Site.objects.select_related("library", "parent"),
        request.user,
        library__code=library_code,
        code=site_code,
    )


def _get_item_for_user(request, barcode):
    return get_scoped_or_404(
        Item.objects.select_related(
            "title",
            "library",
            "owner",
            "consignment",
            "home_site__library",
            "current_site__library",
            "display",
        ),
        request.user,
        barcode=barcode,
    )


def _many_libraries(user):
    libraries = visible_library_ids(user)
    return libraries is None or len(libraries) > 1


@login_required
def site_list(request):
    page = Paginator(selectors.sites_for(request.user), 100).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    held = selectors.held_counts_by_site(request.user, page.object_list)
    for site in page.object_list:
        site.held = held.get(site.pk, 0)
        site.fill = min(100, round(100 * site.held / site.capacity)) if site.capacity else None
    return render(
        request,
        "collections_app/site_list.html",
        {"page": page, "show_library": _many_libraries(request.user)},
    )


@login_required
def site_detail(request, library_code, site_code):
    site = _get_site_for_user(request, library_code, site_code)
    statuses = selectors.site_status_counts(request.user, site)
    ctx = {
        "site": site,
        "statuses": statuses,
        "total": sum(row["count"] for row in statuses),
        "displays": selectors.site_displays(request.user, site),
        "children": selectors.sites_for(request.user).filter(parent=site),
        # A display is made by the staff who work at the site.
        "can_work_here": can_move_volumes(request.user) and can_work_at_site(request.user, site),
    }
    return render(request, "collections_app/site_detail.html", ctx)


@login_required
def item_list(request):
    items = ItemFilter(request.GET, queryset=selectors.items_for(request.user), request=request)
    qs = items.qs if items.is_valid() else items.queryset.none()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "filter": items,
        "page": page,
        "query": query.urlencode(),
        "show_library": _many_libraries(request.user),
    }
    return render(request, "collections_app/item_list.html", ctx)


@login_required
def item_detail(request, barcode):
    item = _get_item_for_user(request, barcode)
    loans, loan_count = selectors.item_loans(request.user, item)
    ctx = {
        "item": item,
        "events": selectors.item_history(item),
        "loans": loans,
        "loan_count": loan_count,
        # Lenders and provincial reviewers see how often an item circulates, never who read it.
        "shows_readers": can_see_readers(request.user, item.library),
        "shows_staff": can_see_staff_names(request.user, item.library),
    }
    return render(request, "collections_app/item_detail.html", ctx)
