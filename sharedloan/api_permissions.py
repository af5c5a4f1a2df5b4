"""Permissions every API endpoint has by default (REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES),
so that a new endpoint cannot forget them: a signed-in caller, and no write from a read-only
role. The finer rules (this site, this library) stay with each view's `can_…` predicates."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import scope


class ReadOnlyRolesOnlyRead(BasePermission):
    """Lenders and provincial reviewers read; any write of theirs is 403 before it is read."""

    message = _("您的角色只能查看，不能修改数据。")

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or not scope.is_read_only_role(request.user)
