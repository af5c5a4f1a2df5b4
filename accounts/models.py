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


class ApiToken(models.Model):
    """A user's key for the REST API (`Authorization: Token <secret>`). The secret is shown
    once, when it is made; only its SHA-256 is kept, so a copy of the database lets nobody in.
    A read-only token (for the NLC's and the province's systems) reads what its user may read
    and is refused every write, whatever its user's role."""

    class Kind(models.TextChoices):
        FULL = "full", _("读写")
        READ_ONLY = "read_only", _("只读")

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.FULL)
    # The first characters of the secret, so the owner can tell their tokens apart.
    prefix = models.CharField(_("前缀"), max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def is_read_only(self):
        return self.kind == self.Kind.READ_ONLY


class IdempotentRequest(models.Model):
    """The answer to an API write sent with an `Idempotency-Key`, kept 24 hours so that a retry
    of the same request gets the same answer without doing the work again (see
    sharedloan.idempotency). Written in the same transaction as the work itself."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path, query and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=200, blank=True)
    body = models.BinaryField()
    # The answer's headers a retry needs too: where to poll a job (Location) and the language
    # the body is in (Content-Language), which the retry's own headers need not repeat.
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("幂等请求")
        verbose_name_plural = _("幂等请求")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user"),
        ]

    def __str__(self):
        return self.key
