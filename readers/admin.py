"""Self-service points in the admin: read here, switched with actions that call the same service
as the site's self-service page (readers.services.self_service_set), which records who and
when. A site without a row is off; it is first turned on from its self-service page."""

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.admin import ScopedHistoryAdmin, ViewOnlyMixin, run_each

from .models import SelfServicePoint
from .services import self_service_set


def _switch(request, queryset, modeladmin, enabled, done):
    run_each(
        modeladmin,
        request,
        queryset.select_related("site__library"),
        lambda point: self_service_set(user=request.user, site=point.site, enabled=enabled),
        done,
    )


@admin.action(description=gettext_lazy("开通自助借书"))
def enable_self_service(modeladmin, request, queryset):
    _switch(request, queryset, modeladmin, True, _("已为 %(count)s 个站点开通自助借书。"))


@admin.action(description=gettext_lazy("关闭自助借书"))
def disable_self_service(modeladmin, request, queryset):
    _switch(request, queryset, modeladmin, False, _("已为 %(count)s 个站点关闭自助借书。"))


@admin.register(SelfServicePoint)
class SelfServicePointAdmin(ViewOnlyMixin, ScopedHistoryAdmin):
    list_display = ["site", "library", "enabled", "changed_by", "changed_at"]
    list_filter = ["library", "enabled"]
    list_select_related = ["site", "library", "changed_by"]
    actions = [enable_self_service, disable_self_service]
