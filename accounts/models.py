from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A staff account. Its library and role decide what it sees (see accounts.scope)."""

    class Role(models.TextChoices):
        LENDER = "lender", _("出借方（国家图书馆）")
        PROVINCIAL = "provincial", _("省馆审核员")
        LIBRARIAN = "librarian", _("县馆馆员")
        SITE_STAFF = "site_staff", _("站点馆员/志愿者")

    library = models.ForeignKey(
        "collections_app.Library",
        verbose_name=_("图书馆"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, blank=True)
    sites = models.ManyToManyField(
        "collections_app.Site",
        verbose_name=_("工作站点"),
        blank=True,
        related_name="staff",
        help_text=_("站点馆员只能在这些站点办理流通和验收。"),
    )

    SCOPE_LIBRARY = "library"
    SCOPE_PRIVATE = True

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        constraints = [
            models.CheckConstraint(
                condition=Q(role="") | Q(library__isnull=False),
                name="staff_role_needs_library",
            ),
        ]

    @property
    def is_lender(self):
        return self.role == self.Role.LENDER

    @property
    def is_provincial(self):
        return self.role == self.Role.PROVINCIAL

    @property
    def is_librarian(self):
        return self.role == self.Role.LIBRARIAN

    @property
    def is_site_staff(self):
        return self.role == self.Role.SITE_STAFF

    @property
    def role_label(self):
        if self.is_superuser:
            return _("平台管理员")
        return self.get_role_display()
