"""What the page header needs: the navigation entries the current role may use."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.scope import role_of

# (url name, label, roles that see it). Roles as in accounts.scope: the User.Role values plus
# "superuser". Site staff and volunteers see the same pages, scoped to their sites.
ALL_ROLES = frozenset({"superuser", "lender", "provincial", "librarian", "site_staff"})
STAFF = frozenset({"superuser", "librarian", "site_staff"})
ENTRIES = [
    ("circulation:home", pgettext_lazy("navigation", "首页"), ALL_ROLES),
    ("circulation:desk", pgettext_lazy("navigation", "借还"), STAFF),
    ("circulation:patron-list", pgettext_lazy("navigation", "读者"), STAFF),
    ("collections:item-list", pgettext_lazy("navigation", "图书"), ALL_ROLES),
    ("collections:transfer-list", pgettext_lazy("navigation", "调拨"), ALL_ROLES),
    ("collections:consignment-list", pgettext_lazy("navigation", "批次验收"), ALL_ROLES),
    ("collections:site-list", pgettext_lazy("navigation", "站点"), ALL_ROLES),
    ("circulation:overdue-list", pgettext_lazy("navigation", "逾期"), STAFF),
    ("reports:volume", pgettext_lazy("navigation", "统计报表"), ALL_ROLES),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": []}
    role = role_of(user)
    match = request.resolver_match
    current = f"{match.namespace}:{match.url_name}" if match else ""
    entries = [
        {
            "url": reverse(name),
            "label": label,
            # A list page stays highlighted on its detail pages: site-list covers site-detail.
            "active": current.rsplit("-", 1)[0] == name.rsplit("-", 1)[0],
        }
        for name, label, roles in ENTRIES
        if role in roles
    ]
    if role == "superuser":
        entries.append({"url": reverse("admin:index"), "label": _("管理后台"), "active": False})
    return {"nav_entries": entries}
