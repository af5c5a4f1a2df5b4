"""Places and things: libraries, their sites and displays, consignments, titles, items,
transfers and the append-only item history.

Every tenant-owned row carries `library` (the receiving county library) so that the scope of a
request is one filter, and so that the tables can later be distributed by library.
Workflows live in services.py; this module holds data, constraints and small properties.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Library(models.Model):
    class Kind(models.TextChoices):
        NATIONAL = "national", _("国家图书馆（出借方）")
        PROVINCIAL = "provincial", _("省级图书馆")
        MUNICIPAL = "municipal", _("市级图书馆")
        COUNTY = "county", _("县级图书馆")

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    province = models.ForeignKey(
        "self",
        verbose_name=_("所属省级图书馆"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="member_libraries",
        limit_choices_to={"kind": Kind.PROVINCIAL},
        help_text=_("县级、市级图书馆所属的省级图书馆，由它审核报表。"),
    )
    region = models.CharField(_("地区"), max_length=100, blank=True)
    history = HistoricalRecords()

    SCOPE_LIBRARY = "pk"

    class Meta:
        verbose_name = _("图书馆")
        verbose_name_plural = _("图书馆")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="provincial") | Q(province__isnull=True),
                name="provincial_library_has_no_province",
                # What the admin's form says when the rule refuses it.
                violation_error_message=_(
                    "省级图书馆没有所属的省级图书馆：请把“所属省级图书馆”留空。"
                ),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_lender(self):
        return self.kind == self.Kind.NATIONAL

    @property
    def is_provincial(self):
        return self.kind == self.Kind.PROVINCIAL


class Site(models.Model):
    class Kind(models.TextChoices):
        CENTRAL = "central", _("总馆")
        BRANCH = "branch", _("分馆")
        SERVICE_POINT = "service_point", _("基层服务点")

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="sites"
    )
    code = models.SlugField(
        _("代码"), max_length=32, help_text=_("在本馆内唯一、稳定的简短代码，用于接口和条码标签。")
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级站点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact = models.CharField(_("联系人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    capacity = models.PositiveIntegerField(
        _("容量（册）"), default=0, help_text=_("可容纳的共享借阅图书册数；0 表示不限。")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    SCOPE_SITES = ("pk",)

    class Meta:
        verbose_name = _("站点")
        verbose_name_plural = _("站点")
        ordering = ["library__code", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["library", "code"], name="site_code_unique_in_library"),
            models.CheckConstraint(
                condition=Q(kind="central") | Q(parent__isnull=False),
                name="non_central_site_has_parent",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_central(self):
        return self.kind == self.Kind.CENTRAL


class Display(models.Model):
    class Kind(models.TextChoices):
        SHELF = "shelf", _("国图文献专架")
        SHOWCASE = "showcase", _("精品展柜")

    library = models.ForeignKey(Library, verbose_name=_("图书馆"), on_delete=models.PROTECT)
    site = models.ForeignKey(
        Site, verbose_name=_("站点"), on_delete=models.PROTECT, related_name="displays"
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.SHELF)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    history = HistoricalRecords()

    SCOPE_SITES = ("site",)

    class Meta:
        verbose_name = _("专架/展柜")
        verbose_name_plural = _("专架/展柜")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="display_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.site.name} · {self.name}"

    def is_running(self, on=None):
        on = on or timezone.localdate()
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)


class Consignment(models.Model):
    class Status(models.TextChoices):
        ANNOUNCED = "announced", _("已通知")
        RECEIVING = "receiving", _("验收中")
        ACTIVE = "active", _("服务中")
        RETURNING = "returning", _("归还中")
        CLOSED = "closed", _("已结束")

    library = models.ForeignKey(
        Library,
        verbose_name=_("接收馆"),
        on_delete=models.PROTECT,
        related_name="consignments",
    )
    lender = models.ForeignKey(
        Library,
        verbose_name=_("出借馆"),
        on_delete=models.PROTECT,
        related_name="lent_consignments",
        limit_choices_to={"kind": Library.Kind.NATIONAL},
    )
    reference = models.CharField(_("批次号"), max_length=50)
    agreement_date = models.DateField(_("协议日期"))
    term_ends_on = models.DateField(_("期满日期"), null=True, blank=True)
    expected_count = models.PositiveIntegerField(_("应到册数"), default=0)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.ANNOUNCED
    )
    note = models.TextField(_("备注"), blank=True)
    # Who closed the receipt (验收签收) and when: the reconciliation is theirs.
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收签收人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(_("验收签收时间"), null=True, blank=True)
    history = HistoricalRecords()

    SCOPE_LENDER = "lender"

    class Meta:
        verbose_name = _("共享借阅批次")
        verbose_name_plural = _("共享借阅批次")
        ordering = ["-agreement_date", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["lender", "reference"], name="consignment_reference_unique_per_lender"
            ),
            models.CheckConstraint(
                condition=Q(term_ends_on__isnull=True)
                | Q(term_ends_on__gt=models.F("agreement_date")),
                name="consignment_term_ends_after_agreement",
            ),
        ]

    def __str__(self):
        return gettext("%(name)s（%(kind)s）") % {"name": self.reference, "kind": self.library.name}


class ClcClass(models.Model):
    """A class of the Chinese Library Classification (中图法), top and second level."""

    code = models.CharField(_("类号"), max_length=16, primary_key=True)
    name_zh = models.CharField(_("类名"), max_length=100)
    name_en = models.CharField(_("英文类名"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    level = models.PositiveSmallIntegerField(_("级别"))

    class Meta:
        verbose_name = _("中图法类目")
        verbose_name_plural = _("中图法类目")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def name(self):
        """The class name in the page's language: English where we have it, else Chinese."""
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name_zh


def clc_top_names() -> dict[str, str]:
    """Top-level CLC class names by code, in the page's language."""
    return {clc.code: clc.name for clc in ClcClass.objects.filter(level=1)}


def clc_top_class(number: str) -> str:
    """The top-level class of a CLC class number: its first letter ("I247.5" → "I")."""
    number = (number or "").strip().lstrip("[").upper()
    return number[:1] if number[:1].isalpha() else ""


class Title(models.Model):
    library = models.ForeignKey(Library, verbose_name=_("图书馆"), on_delete=models.PROTECT)
    isbn = models.CharField(_("ISBN"), max_length=13, blank=True, db_index=True)
    title = models.CharField(_("题名"), max_length=500)
    responsibility = models.CharField(_("责任者"), max_length=500, blank=True)
    publisher = models.CharField(_("出版者"), max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(_("出版年"), null=True, blank=True)
    clc = models.CharField(_("中图分类号"), max_length=64, blank=True)
    clc_top = models.CharField(_("中图法大类"), max_length=1, blank=True, db_index=True)
    price = models.DecimalField(
        _("价格（元）"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    marc = models.TextField(_("MARC 原始记录"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    # What readers type into the public catalogue for this title, filled by
    # collections_app.title_keys.title_search_keys wherever titles are created.
    title_pinyin = models.CharField(_("题名拼音"), max_length=1000, blank=True, db_index=True)
    title_initials = models.CharField(
        _("题名拼音首字母"), max_length=500, blank=True, db_index=True
    )
    history = HistoricalRecords(excluded_fields=["marc", "title_pinyin", "title_initials"])

    class Meta:
        verbose_name = _("书目")
        verbose_name_plural = _("书目")
        ordering = ["title"]
        indexes = [models.Index(fields=["library", "clc_top"])]

    def __str__(self):
        return self.title


class ItemQuerySet(models.QuerySet):
    def available(self):
        return self.filter(status=Item.Status.AVAILABLE)

    def in_service(self):
        return self.exclude(status__in=Item.OUT_OF_SERVICE)


class Item(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available", _("在架")
        ON_LOAN = "on_loan", _("借出")
        IN_TRANSIT = "in_transit", _("在途")
        MISSING = "missing", _("丢失")
        DAMAGED = "damaged", _("损坏")
        WITHDRAWN = "withdrawn", _("剔除")
        RETURNED_TO_LENDER = "returned_to_lender", _("已还国图")
        # Listed in an imported manifest, at the central library, not yet scanned in.
        EXPECTED = "expected", _("待验收")

    # Not in service: nobody may lend or move these. Expected items count here until receipt so
    # that the per-state counts still add up to the items held.
    OUT_OF_SERVICE = (
        Status.MISSING,
        Status.DAMAGED,
        Status.WITHDRAWN,
        Status.RETURNED_TO_LENDER,
        Status.EXPECTED,
    )

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="items"
    )
    barcode = models.CharField(_("条码号"), max_length=32, unique=True)
    title = models.ForeignKey(
        Title, verbose_name=_("书目"), on_delete=models.PROTECT, related_name="items"
    )
    consignment = models.ForeignKey(
        Consignment, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="items"
    )
    owner = models.ForeignKey(
        Library,
        verbose_name=_("所有者"),
        on_delete=models.PROTECT,
        related_name="owned_items",
        help_text=_("出借馆：图书始终是国家图书馆的财产。"),
    )
    call_number = models.CharField(_("索书号"), max_length=64, blank=True)
    home_site = models.ForeignKey(
        Site, verbose_name=_("所属站点"), on_delete=models.PROTECT, related_name="home_items"
    )
    current_site = models.ForeignKey(
        Site,
        verbose_name=_("当前站点"),
        on_delete=models.PROTECT,
        related_name="current_items",
        help_text=_("在途时为发出站点。"),
    )
    display = models.ForeignKey(
        Display,
        verbose_name=_("专架/展柜"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
    )
    box = models.ForeignKey(
        "Box",
        verbose_name=_("流动书箱"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.AVAILABLE
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), default=timezone.now)
    last_loan_at = models.DateTimeField(_("最近借出时间"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ItemQuerySet.as_manager()

    SCOPE_LENDER = "owner"
    SCOPE_SITES = ("current_site",)

    class Meta:
        verbose_name = _("图书")
        verbose_name_plural = _("图书")
        ordering = ["barcode"]
        indexes = [
            models.Index(fields=["library", "status"]),
            models.Index(fields=["current_site", "status"]),
            # The public catalogue: a title's copies by site and status.
            models.Index(fields=["title", "current_site", "status"], name="item_title_site_status"),
            # The holdings page's idle volumes: those on the shelf lent since a day, read from
            # the index alone (the rest of the holdings come from the summary).
            models.Index(
                fields=["last_loan_at"],
                include=[
                    "library",
                    "owner",
                    "current_site",
                    "consignment",
                    "display",
                    "title",
                ],
                condition=Q(status="available"),
                name="item_shelf_last_loan",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "available",
                        "on_loan",
                        "in_transit",
                        "missing",
                        "damaged",
                        "withdrawn",
                        "returned_to_lender",
                        "expected",
                    ]
                ),
                name="item_status_valid",
            ),
        ]

    def __str__(self):
        return self.barcode

    @property
    def is_available(self):
        return self.status == self.Status.AVAILABLE

    @property
    def is_on_loan(self):
        return self.status == self.Status.ON_LOAN

    @property
    def is_in_transit(self):
        return self.status == self.Status.IN_TRANSIT

    @property
    def is_out_of_service(self):
        return self.status in self.OUT_OF_SERVICE

    @property
    def is_expected(self):
        return self.status == self.Status.EXPECTED


class TransferQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=Transfer.OPEN)

    def in_transit(self):
        return self.filter(status=Transfer.Status.DISPATCHED)


class Transfer(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        DISPATCHED = "dispatched", _("已发出")
        RECEIVED = "received", _("已接收")
        CANCELLED = "cancelled", _("已取消")

    class Reason(models.TextChoices):
        ALLOCATION = "allocation", _("分配")
        ROTATION = "rotation", _("轮换")
        RETURN_HOME = "return_home", _("归还所属站点")
        DISPLAY = "display", _("专架陈列")
        RETURN_TO_LENDER = "return_to_lender", _("归还国图")
        HOLD = "hold", _("预约调运")

    OPEN = (Status.DRAFT, Status.DISPATCHED)

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="transfers"
    )
    source = models.ForeignKey(
        Site, verbose_name=_("发出站点"), on_delete=models.PROTECT, related_name="outgoing"
    )
    destination = models.ForeignKey(
        Site,
        verbose_name=_("接收站点"),
        on_delete=models.PROTECT,
        related_name="incoming",
        null=True,
        blank=True,
        help_text=_("归还国图时为空。"),
    )
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    dispatched_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    history = HistoricalRecords()

    objects = TransferQuerySet.as_manager()

    SCOPE_SITES = ("source", "destination")

    class Meta:
        verbose_name = _("调拨单")
        verbose_name_plural = _("调拨单")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["library", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=models.F("destination")),
                name="transfer_destination_differs_from_source",
            ),
            models.CheckConstraint(
                condition=Q(destination__isnull=False) | Q(reason="return_to_lender"),
                name="transfer_without_destination_returns_to_lender",
            ),
            models.CheckConstraint(
                condition=Q(dispatched_at__isnull=True)
                | Q(dispatched_at__gte=models.F("created_at")),
                name="transfer_dispatched_after_created",
            ),
            models.CheckConstraint(
                condition=Q(received_at__isnull=True)
                | Q(dispatched_at__isnull=False, received_at__gte=models.F("dispatched_at")),
                name="transfer_received_after_dispatched",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.source} → {self.destination or _('国家图书馆')}"

    @property
    def is_open(self):
        return self.status in self.OPEN

    @property
    def is_dispatched(self):
        return self.status == self.Status.DISPATCHED


class TransferLine(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("待接收")
        RECEIVED = "received", _("已接收")
        MISSING = "missing", _("缺失")
        DAMAGED = "damaged", _("损坏")
        EXTRA = "extra", _("多出")

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    transfer = models.ForeignKey(
        Transfer, verbose_name=_("调拨单"), on_delete=models.CASCADE, related_name="lines"
    )
    item = models.ForeignKey(
        Item, verbose_name=_("图书"), on_delete=models.PROTECT, related_name="transfer_lines"
    )
    state = models.CharField(
        _("接收情况"), max_length=10, choices=State.choices, default=State.PENDING
    )
    # Copied from the transfer's status so that "one open transfer per item" can be a partial
    # unique index on this table alone; the transfer services keep the two in step.
    is_open = models.BooleanField(_("未完结"), default=True)
    history = HistoricalRecords()

    SCOPE_LENDER = "item__owner"
    SCOPE_SITES = ("transfer__source", "transfer__destination")

    class Meta:
        verbose_name = _("调拨明细")
        verbose_name_plural = _("调拨明细")
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(is_open=True), name="one_open_transfer_per_item"
            ),
            models.UniqueConstraint(fields=["transfer", "item"], name="item_once_per_transfer"),
        ]

    def __str__(self):
        return f"{self.transfer_id}: {self.item}"


class ItemEventQuerySet(models.QuerySet):
    def for_item(self, item):
        return self.filter(item=item).select_related("from_site", "to_site", "user")


class ItemEvent(models.Model):
    """Append-only history: one row for every change of an item's status or place."""

    class Kind(models.TextChoices):
        IMPORTED = "imported", _("清单登记")
        RECEIVED = "received", _("验收入藏")
        DISPATCHED = "dispatched", _("调拨发出")
        ARRIVED = "arrived", _("调拨到达")
        TRANSFER_CANCELLED = "transfer_cancelled", _("调拨取消")
        CHECKED_OUT = "checked_out", _("借出")
        RENEWED = "renewed", _("续借")
        RETURNED = "returned", _("归还")
        DISPLAYED = "displayed", _("上专架")
        UNDISPLAYED = "undisplayed", _("下专架")
        STATUS_CHANGED = "status_changed", _("状态变更")

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        Item, verbose_name=_("图书"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(
        _("原状态"), max_length=20, choices=Item.Status.choices, blank=True
    )
    to_status = models.CharField(_("新状态"), max_length=20, choices=Item.Status.choices)
    from_site = models.ForeignKey(
        Site,
        verbose_name=_("原站点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_site = models.ForeignKey(
        Site,
        verbose_name=_("新站点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    transfer = models.ForeignKey(
        Transfer,
        verbose_name=_("调拨单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = ItemEventQuerySet.as_manager()

    SCOPE_LENDER = "item__owner"
    SCOPE_SITES = ("item__current_site",)

    class Meta:
        verbose_name = _("图书流转记录")
        verbose_name_plural = _("图书流转记录")
        ordering = ["item", "at", "id"]
        indexes = [
            models.Index(fields=["item", "at"]),
            # The public catalogue's new arrivals: what reached a site lately.
            models.Index(fields=["to_site", "at"], name="itemevent_to_site_at"),
        ]

    def __str__(self):
        return f"{self.item} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Box(models.Model):
    """A travelling book box (流动书箱): items that go out and come back as one, for service
    points without a librarian. Its label carries `code`, scanned like an item barcode."""

    library = models.ForeignKey(Library, verbose_name=_("图书馆"), on_delete=models.PROTECT)
    code = models.CharField(_("书箱条码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    # Site staff see the boxes whose volumes are at their sites.
    SCOPE_SITES = ("items__current_site",)

    class Meta:
        verbose_name = _("流动书箱")
        verbose_name_plural = _("流动书箱")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class RotationPlan(models.Model):
    """Ordered stops an item or box travels through (轮换计划), once or in a cycle."""

    library = models.ForeignKey(Library, verbose_name=_("图书馆"), on_delete=models.PROTECT)
    name = models.CharField(_("名称"), max_length=100)
    is_cyclical = models.BooleanField(_("循环"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    demand_loans = models.PositiveSmallIntegerField(
        _("留驻借阅阈值"),
        default=3,
        help_text=_("一个停留期内借出达到这个次数的图书可在本站多留一期。"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("轮换计划")
        verbose_name_plural = _("轮换计划")
        ordering = ["name"]

    def __str__(self):
        return self.name


class RotationStop(models.Model):
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(
        RotationPlan, verbose_name=_("轮换计划"), on_delete=models.CASCADE, related_name="stops"
    )
    position = models.PositiveSmallIntegerField(_("顺序"))
    site = models.ForeignKey(
        Site, verbose_name=_("站点"), on_delete=models.PROTECT, related_name="+"
    )
    stay_days = models.PositiveSmallIntegerField(_("停留天数"), null=True, blank=True)
    stay_loans = models.PositiveSmallIntegerField(
        _("停留至借出次数"), null=True, blank=True, help_text=_("借出达到这个次数后前往下一站。")
    )
    capacity = models.PositiveIntegerField(
        _("容量上限（册）"), null=True, blank=True, help_text=_("本计划在此站最多同时停放的册数。")
    )

    class Meta:
        verbose_name = _("轮换站点")
        verbose_name_plural = _("轮换站点")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="one_stop_per_position"),
            models.CheckConstraint(
                condition=Q(stay_days__isnull=False) | Q(stay_loans__isnull=False),
                name="stop_has_a_stay",
            ),
        ]

    def __str__(self):
        return f"{self.plan} {self.position}. {self.site}"


class RotationMember(models.Model):
    """An item or a box on a rotation plan, and where on the plan it is."""

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(
        RotationPlan, verbose_name=_("轮换计划"), on_delete=models.CASCADE, related_name="members"
    )
    item = models.OneToOneField(
        Item,
        verbose_name=_("图书"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rotation",
    )
    box = models.OneToOneField(
        Box,
        verbose_name=_("流动书箱"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rotation",
    )
    stop = models.ForeignKey(
        RotationStop, verbose_name=_("当前站"), on_delete=models.PROTECT, related_name="members"
    )
    arrived_at = models.DateTimeField(_("到站时间"), default=timezone.now)
    extended = models.PositiveSmallIntegerField(_("因需求留驻期数"), default=0)
    is_finished = models.BooleanField(_("已走完"), default=False)

    class Meta:
        verbose_name = _("轮换成员")
        verbose_name_plural = _("轮换成员")
        constraints = [
            models.CheckConstraint(
                condition=Q(item__isnull=False, box__isnull=True)
                | Q(item__isnull=True, box__isnull=False),
                name="rotation_member_is_item_or_box",
            ),
        ]

    def __str__(self):
        return str(self.item or self.box)


class ConsignmentImport(models.Model):
    """One committed manifest file of a consignment. The file's digest makes a second import of
    the same file a no-op that says so."""

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    consignment = models.ForeignKey(
        Consignment, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="imports"
    )
    sha256 = models.CharField(_("文件摘要"), max_length=64)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    file_format = models.CharField(_("格式"), max_length=16)
    encoding = models.CharField(_("编码"), max_length=16, blank=True)
    title_count = models.PositiveIntegerField(_("种数"), default=0)
    item_count = models.PositiveIntegerField(_("册数"), default=0)
    awaiting_count = models.PositiveIntegerField(_("待贴条码册数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("导入时间"), default=timezone.now)

    SCOPE_LENDER = "consignment__lender"

    class Meta:
        verbose_name = _("清单导入")
        verbose_name_plural = _("清单导入")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["consignment", "sha256"], name="manifest_file_imported_once"
            ),
        ]

    def __str__(self):
        return f"{self.consignment.reference} {self.filename}"


class AwaitingBarcodes(models.Model):
    """Copies of a title that a manifest announced without barcodes (a MARC record without
    holdings): they are expected, but are not Items until a barcode is given to each."""

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    consignment = models.ForeignKey(
        Consignment, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="awaiting"
    )
    title = models.ForeignKey(
        Title, verbose_name=_("书目"), on_delete=models.PROTECT, related_name="awaiting"
    )
    copies = models.PositiveIntegerField(_("待贴条码册数"))

    SCOPE_LENDER = "consignment__lender"

    class Meta:
        verbose_name = _("待贴条码")
        verbose_name_plural = _("待贴条码")
        constraints = [
            models.CheckConstraint(condition=Q(copies__gt=0), name="awaiting_copies_positive"),
        ]

    def __str__(self):
        return f"{self.title} × {self.copies}"


class ReceiptEntry(models.Model):
    """One line of a consignment's receipt: each barcode scanned in, and at sign-off each item
    found missing. The missing and extra lists sent back to the lender are read from here."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("已验收")
        DAMAGED = "damaged", _("损坏")
        ALREADY = "already", _("重复扫描")
        EXTRA = "extra", _("清单外")
        INVALID = "invalid", _("条码格式不符")
        MISSING = "missing", _("缺失")

    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+")
    consignment = models.ForeignKey(
        Consignment, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="receipt"
    )
    barcode = models.CharField(_("条码号"), max_length=64)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    item = models.ForeignKey(
        Item, verbose_name=_("图书"), on_delete=models.PROTECT, null=True, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    SCOPE_LENDER = "consignment__lender"

    class Meta:
        verbose_name = _("验收记录")
        verbose_name_plural = _("验收记录")
        ordering = ["consignment", "at", "id"]
        indexes = [models.Index(fields=["consignment", "outcome"])]

    def __str__(self):
        return f"{self.barcode} {self.get_outcome_display()}"


class HoldingCount(models.Model):
    """How many volumes stand where, in which state: the holdings summary ("now") that the
    report pages read instead of counting half a million volumes per request.

    Append-only: every change of a volume's status, site, display or first loan adds a −1 row
    for where it was and a +1 row for where it is now, in the transaction of the change
    (`collections_app.services.holdings`), and the figures are the sums per group. A desk
    therefore never waits on another desk's counter row; the nightly fold collapses each
    group's rows into one (docs/reports.md). `check_integrity` proves the sums equal the
    volumes counted live."""

    library = models.ForeignKey(
        Library, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    owner = models.ForeignKey(
        Library, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    site = models.ForeignKey(
        Site, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    consignment = models.ForeignKey(
        Consignment,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    clc_top = models.CharField(max_length=1, blank=True)
    display = models.ForeignKey(
        Display,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    status = models.CharField(max_length=20, choices=Item.Status.choices)
    lent = models.BooleanField(help_text="Whether the volumes were ever lent (last_loan_at).")
    lent_month = models.DateField(
        null=True,
        help_text="The first day of the UTC month the volumes were last lent (NULL: never).",
    )
    volumes = models.IntegerField()

    # Rows are only inserted (and folded at night): one index, for a county's pages, keeps
    # each change's INSERT cheap.
    SCOPE_LENDER = "owner"
    SCOPE_SITES = ("site",)

    class Meta:
        # Named for the admin's permission lists, where every model shows.
        verbose_name = _("馆藏汇总行")
        verbose_name_plural = _("馆藏汇总行")
        indexes = [models.Index(fields=["library", "site"], name="holding_library_site")]

    def __str__(self):
        return f"{self.site_id} {self.clc_top} {self.status} {self.volumes:+d}"
