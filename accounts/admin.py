from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.admin_scope import ScopedAdminMixin
from accounts.models import User


@admin.register(User)
class StaffAdmin(ScopedAdminMixin, UserAdmin):
    list_display = ["username", "first_name", "library", "role", "is_active", "last_login"]
    list_filter = ["role", "library", "is_active", "is_superuser"]
    search_fields = ["username", "first_name", "last_name", "email"]
    filter_horizontal = ["sites", "groups", "user_permissions"]
    fieldsets = UserAdmin.fieldsets + ((_("共享借阅"), {"fields": ["library", "role", "sites"]}),)
    add_fieldsets = UserAdmin.add_fieldsets + (
        (_("共享借阅"), {"fields": ["library", "role", "sites"]}),
    )
