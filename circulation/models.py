"""People and loans: readers, loan rules and loans of NLC volumes."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from collections_app.models import Item, Library, Site


class Patron(models.Model):
    """A reader (读者). Only what lending and reporting need: no ID number, no address."""

    class Category(models.TextChoices):
        CHILD = "child", _("少儿")
        STUDENT = "student", _("学生")
        ADULT = "adult", _("成人")
        SENIOR = "senior", _("老年")

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="patrons"
    )
    card_number = models.CharField(_("读者证号"), max_length=32)
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    category = models.CharField(_("读者类型"), max_length=10, choices=Category.choices)
    home_site = models.ForeignKey(
        Site, verbose_name=_("办证站点"), on_delete=models.PROTECT, related_name="patrons"
    )
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    registered_at = models.DateTimeField(_("办证时间"), default=timezone.now)
    is_suspended = models.BooleanField(_("已暂停"), default=False)
    suspended_reason = models.CharField(_("暂停原因"), max_length=200, blank=True)
    # A password hash (django.contrib.auth.hashers) of the PIN the reader signs in with online;
    # empty until staff set one.
    pin = models.CharField(_("密码"), max_length=128, blank=True)
    keeps_reading_history = models.BooleanField(
        _("保留借阅历史"),
        default=False,
        help_text=_("读者自己在“我的账户”中开启；关闭时只显示当前借阅。"),
    )
    history = HistoricalRecords(excluded_fields=["pin"])

    SCOPE_PRIVATE = True

    class Meta:
        verbose_name = _("读者")
        verbose_name_plural = _("读者")
        ordering = ["card_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "card_number"], name="card_number_unique_in_library"
            ),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900),
                name="patron_birth_year_plausible",
            ),
        ]

    def __str__(self):
        return f"{self.card_number} {self.name}"


class LoanRule(models.Model):
    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="loan_rules"
    )
    category = models.CharField(_("读者类型"), max_length=10, choices=Patron.Category.choices)
    site_kind = models.CharField(
        _("站点类型"),
        max_length=16,
        choices=Site.Kind.choices,
        blank=True,
        help_text=_("留空表示适用于所有站点类型。"),
    )
    loan_days = models.PositiveSmallIntegerField(_("借期（天）"))
    max_items = models.PositiveSmallIntegerField(_("最多可借册数"))
    max_renewals = models.PositiveSmallIntegerField(_("最多续借次数"), default=1)
    holds_allowed = models.BooleanField(_("允许预约"), default=True)
    blocks_when_overdue = models.BooleanField(
        _("逾期停借"),
        default=True,
        help_text=_("读者有逾期未还的图书时，不能再借新书（可以归还和续借）。"),
    )
    hold_pickup_days = models.PositiveSmallIntegerField(
        _("预约保留天数"),
        default=7,
        help_text=_("预约图书到达取书站点后为读者保留的天数，过期自动取消。"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("借阅规则")
        verbose_name_plural = _("借阅规则")
        ordering = ["library", "category", "site_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "category", "site_kind"], name="one_loan_rule_per_case"
            ),
            models.CheckConstraint(condition=Q(loan_days__gte=1), name="loan_rule_days_positive"),
        ]

    def __str__(self):
        return f"{self.library} · {self.get_category_display()}"


class LoanQuerySet(models.QuerySet):
    def open(self):
        return self.filter(returned_at__isnull=True)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())


class Loan(models.Model):
    # The library, the reader and the site lead an index each with the checkout time (Meta):
    # an index of their own as well would only cost every checkout one more write.
    library = models.ForeignKey(
        Library,
        verbose_name=_("图书馆"),
        on_delete=models.PROTECT,
        related_name="loans",
        db_index=False,
    )
    item = models.ForeignKey(
        Item, verbose_name=_("图书"), on_delete=models.PROTECT, related_name="loans"
    )
    patron = models.ForeignKey(
        Patron,
        verbose_name=_("读者"),
        on_delete=models.PROTECT,
        related_name="loans",
        db_index=False,
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("借出站点"),
        on_delete=models.PROTECT,
        related_name="loans",
        db_index=False,
    )
    display = models.ForeignKey(
        "collections_app.Display",
        verbose_name=_("借自专架"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="loans",
    )
    checked_out_at = models.DateTimeField(_("借出时间"), default=timezone.now)
    due_at = models.DateTimeField(_("应还时间"))
    returned_at = models.DateTimeField(_("归还时间"), null=True, blank=True)
    return_site = models.ForeignKey(
        Site,
        verbose_name=_("归还站点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
    )
    renewals = models.PositiveSmallIntegerField(_("续借次数"), default=0)
    history = HistoricalRecords()

    objects = LoanQuerySet.as_manager()

    SCOPE_PRIVATE = True

    class Meta:
        verbose_name = _("借阅记录")
        verbose_name_plural = _("借阅记录")
        ordering = ["-checked_out_at"]
        indexes = [
            models.Index(fields=["library", "checked_out_at"]),
            models.Index(fields=["site", "checked_out_at"]),
            # A reader's loans by time: their history, and the report pages' question whether
            # a reader borrowing now already borrowed at that site earlier today.
            models.Index(fields=["patron", "checked_out_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(returned_at__isnull=True),
                name="one_open_loan_per_item",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gt=models.F("checked_out_at")), name="loan_due_after_checkout"
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True)
                | Q(returned_at__gte=models.F("checked_out_at")),
                name="loan_returned_after_checkout",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True, return_site__isnull=True)
                | Q(returned_at__isnull=False, return_site__isnull=False),
                name="loan_return_has_site",
            ),
        ]

    def __str__(self):
        return f"{self.item} → {self.patron}"

    @property
    def is_open(self):
        return self.returned_at is None

    def is_overdue(self, now=None):
        return self.is_open and self.due_at < (now or timezone.now())


class ClosedDay(models.Model):
    """A day a site is closed (闭馆日). Due dates falling on one move to the next open day.
    Without a site, the day is closed at every site of the library (a public holiday)."""

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="closed_days"
    )
    site = models.ForeignKey(
        Site,
        verbose_name=_("站点"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closed_days",
        help_text=_("留空表示全馆所有站点闭馆。"),
    )
    date = models.DateField(_("日期"))
    reason = models.CharField(_("原因"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("闭馆日")
        verbose_name_plural = _("闭馆日")
        ordering = ["date"]
        indexes = [models.Index(fields=["library", "date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "site", "date"], name="closed_day_once_per_site"
            ),
            models.UniqueConstraint(
                fields=["library", "date"],
                condition=Q(site__isnull=True),
                name="closed_day_once_per_library",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.site or _('全馆')}"


class HoldQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=Hold.OPEN)

    def waiting(self):
        return self.filter(status=Hold.Status.WAITING)

    def trapped(self):
        return self.filter(status=Hold.Status.TRAPPED)


class Hold(models.Model):
    """A reader's request for a title (预约). The next copy returned anywhere in the library is
    trapped for the reader: it stays on the hold shelf at the pickup site, or travels there on a
    transfer. A trapped copy stays `available` in the item's status (it is on a shelf, not out),
    and checkout refuses it to anyone but this reader; that keeps the item states of the
    collections untouched by holds."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("等待中")
        TRAPPED = "trapped", _("已留书")
        FULFILLED = "fulfilled", _("已借出")
        CANCELLED = "cancelled", _("已取消")
        EXPIRED = "expired", _("已过期")

    OPEN = (Status.WAITING, Status.TRAPPED)

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="holds"
    )
    patron = models.ForeignKey(
        Patron, verbose_name=_("读者"), on_delete=models.PROTECT, related_name="holds"
    )
    title = models.ForeignKey(
        "collections_app.Title",
        verbose_name=_("书目"),
        on_delete=models.PROTECT,
        related_name="holds",
    )
    pickup_site = models.ForeignKey(
        Site, verbose_name=_("取书站点"), on_delete=models.PROTECT, related_name="holds"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    placed_at = models.DateTimeField(_("预约时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("预约有效期至"))
    item = models.ForeignKey(
        Item,
        verbose_name=_("留书"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="holds",
    )
    trapped_at = models.DateTimeField(_("留书时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    history = HistoricalRecords()

    objects = HoldQuerySet.as_manager()

    SCOPE_PRIVATE = True

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["placed_at", "id"]
        indexes = [models.Index(fields=["library", "title", "status", "placed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["patron", "title"],
                condition=Q(status__in=["waiting", "trapped"]),
                name="one_open_hold_per_reader_and_title",
            ),
            models.UniqueConstraint(
                fields=["item"], condition=Q(status="trapped"), name="one_trapped_hold_per_item"
            ),
            models.CheckConstraint(
                condition=~Q(status="trapped") | Q(item__isnull=False, trapped_at__isnull=False),
                name="trapped_hold_has_item",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "trapped"]) | Q(closed_at__isnull=False),
                name="closed_hold_has_closing_time",
            ),
        ]

    def __str__(self):
        return f"{self.patron} · {self.title}"

    @property
    def is_open(self):
        return self.status in self.OPEN

    @property
    def is_waiting(self):
        return self.status == self.Status.WAITING

    @property
    def is_trapped(self):
        return self.status == self.Status.TRAPPED
