from django.conf import settings
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

    # Blank until the user picks a language with the switcher; then the one they chose.
    language = models.CharField(
        _("界面语言"), max_length=10, choices=settings.LANGUAGES, blank=True, default=""
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


class FormSubmission(models.Model):
    """A create form sent once. The page renders a fresh key into the form; the first submission
    claims it in the same transaction as the row it creates, so a second one (a double click, a
    resend after a slow answer, two tabs) finds the key taken and is sent to what the first one
    made. The unique constraint decides, even when both arrive at the same moment."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    form = models.CharField(max_length=50)
    result_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("表单提交")
        verbose_name_plural = _("表单提交")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="form_submitted_once"),
        ]

    def __str__(self):
        return f"{self.form} {self.key}"
