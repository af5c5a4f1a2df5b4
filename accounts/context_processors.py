"""What the page header and templates need: the navigation entries the user may use, and the
rights (`can`) that decide which actions a page offers — the predicates of accounts.scope."""

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts import scope

# (url name, label, predicate of accounts.scope the user must satisfy to see it).
ENTRIES = [
    ("circulation:home", pgettext_lazy("navigation", "首页"), scope.has_staff_role),
    ("circulation:desk", pgettext_lazy("navigation", "借还"), scope.can_circulate),
    ("circulation:patron-list", pgettext_lazy("navigation", "读者"), scope.can_circulate),
    ("collections:item-list", pgettext_lazy("navigation", "图书"), scope.has_staff_role),
    ("collections:transfer-list", pgettext_lazy("navigation", "调拨"), scope.has_staff_role),
    ("collections:consignment-list", pgettext_lazy("navigation", "批次验收"), scope.has_staff_role),
    ("collections:site-list", pgettext_lazy("navigation", "站点"), scope.has_staff_role),
    ("circulation:overdue-list", pgettext_lazy("navigation", "逾期"), scope.can_circulate),
    ("reports:volume", pgettext_lazy("navigation", "统计报表"), scope.has_staff_role),
    ("accounts:api-tokens", pgettext_lazy("navigation", "API 令牌"), scope.can_use_api_tokens),
]


def rights(user) -> dict[str, bool]:
    """The rights that do not depend on one object, by the name templates use: `can.circulate`,
    `can.move_volumes`, … Rights on one object (this site, this report) come from the view."""
    return {
        "circulate": scope.can_circulate(user),
        "move_volumes": scope.can_move_volumes(user),
        "manage_library": user.library is not None and scope.can_manage_library(user, user.library),
        "announce_consignment": scope.can_announce_consignment(user),
        "plan_rotations": scope.can_plan_rotations(user),
        "prepare_period_report": scope.can_prepare_period_report(user),
        "read_rollups": scope.can_read_rollups(user),
        "use_admin": scope.can_use_admin(user),
    }


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": [], "can": {}}
    match = request.resolver_match
    current = f"{match.namespace}:{match.url_name}" if match else ""
    entries = [
        {
            "url": reverse(name),
            "label": label,
            # A list page stays highlighted on its detail pages: site-list covers site-detail.
            "active": current.rsplit("-", 1)[0] == name.rsplit("-", 1)[0],
        }
        for name, label, allowed in ENTRIES
        if allowed(user)
    ]
    if scope.can_use_admin(user):
        entries.append({"url": reverse("admin:index"), "label": _("管理后台"), "active": False})
    return {"nav_entries": entries, "can": SimpleLazyObject(lambda: rights(user))}
