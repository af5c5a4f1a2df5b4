"""Report data: summary tables of loans (kept by `refresh_report_tables`) and the period
reports a county submits to its provincial library.

The summary tables are derived data: they can be dropped and rebuilt from the loans at any
time. Their foreign keys carry no database constraint and never cascade, so that a data fix
elsewhere never waits on them; a refresh of the affected period brings them back in step.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from circulation.models import Patron
from collections_app.models import Consignment, Display, Library, Site, Title


class AgeBand(models.TextChoices):
    """The reader's age in the calendar year of the checkout (year of checkout − birth year)."""

    CHILD = "0-6", _("0–6 岁")
    PRIMARY = "7-12", _("7–12 岁")
    TEEN = "13-18", _("13–18 岁")
    YOUNG = "19-35", _("19–35 岁")
    MIDDLE = "36-59", _("36–59 岁")
    SENIOR = "60+", _("60 岁及以上")
    UNKNOWN = "unknown", _("年龄不详")


# Upper bound (inclusive) of each band, in order; the last band has none.
AGE_BOUNDS = ((6, AgeBand.CHILD), (12, AgeBand.PRIMARY), (18, AgeBand.TEEN), (35, AgeBand.YOUNG))
AGE_BOUNDS += ((59, AgeBand.MIDDLE),)


def _ref(model, name):
    return models.ForeignKey(
        model,
        verbose_name=name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )


def _optional_ref(model, name):
    return models.ForeignKey(
        model,
        verbose_name=name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )


class LoanDay(models.Model):
    """Checkouts per day and place: the narrow table behind day and week charts."""

    library = _ref(Library, _("图书馆"))
    owner = _ref(Library, _("所有者"))
    day = models.DateField(_("日期"))
    site = _ref(Site, _("借出站点"))
    site_kind = models.CharField(_("站点类型"), max_length=16)
    consignment = _ref(Consignment, _("批次"))
    display = _optional_ref(Display, _("专架/展柜"))
    loans = models.PositiveIntegerField(_("借阅册次"))

    class Meta:
        verbose_name = _("日借阅汇总")
        verbose_name_plural = _("日借阅汇总")
        indexes = [models.Index(fields=["library", "day"]), models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.day} {self.site_id}: {self.loans}"


class MonthCube(models.Model):
    """Checkouts per month and place; each concrete cube adds a few dimensions. Narrow cubes
    stay small however many loans there are (their rows are bounded by the combinations),
    so a report reads the narrowest cube that holds its dimensions (facts.MONTH_CUBES)."""

    library = _ref(Library, _("图书馆"))
    owner = _ref(Library, _("所有者"))
    month = models.DateField(_("月份"))
    site = _ref(Site, _("借出站点"))
    site_kind = models.CharField(_("站点类型"), max_length=16)
    consignment = _ref(Consignment, _("批次"))
    loans = models.PositiveIntegerField(_("借阅册次"))

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.month:%Y-%m} {self.site_id}: {self.loans}"


class LoanMonthPlace(MonthCube):
    """Place only: loans by month, library, site or consignment — a few thousand rows a year."""

    class Meta:
        verbose_name = _("月借阅汇总（地点）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LoanMonthTop(MonthCube):
    clc_top = models.CharField(_("中图法大类"), max_length=1)

    class Meta:
        verbose_name = _("月借阅汇总（大类）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LoanMonthReader(MonthCube):
    category = models.CharField(_("读者类型"), max_length=10)
    age_band = models.CharField(_("年龄段"), max_length=8)

    class Meta:
        verbose_name = _("月借阅汇总（读者类型×年龄段）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LoanMonthClass(MonthCube):
    clc_top = models.CharField(_("中图法大类"), max_length=1)
    category = models.CharField(_("读者类型"), max_length=10)

    class Meta:
        verbose_name = _("月借阅汇总（大类×读者类型）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LoanMonthClassAge(MonthCube):
    clc_top = models.CharField(_("中图法大类"), max_length=1)
    age_band = models.CharField(_("年龄段"), max_length=8)

    class Meta:
        verbose_name = _("月借阅汇总（大类×年龄段）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LoanMonthClc2(MonthCube):
    clc_top = models.CharField(_("中图法大类"), max_length=1)
    clc2 = models.CharField(_("中图法二级类"), max_length=16)

    class Meta:
        verbose_name = _("月借阅汇总（二级类）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LibraryMonthCube(models.Model):
    """Checkouts per month and library without the site: for the questions that neither group
    nor filter nor are scoped by site (a province's or the lender's class × reader tables),
    which would otherwise add up every site's rows — ten times as many."""

    library = _ref(Library, _("图书馆"))
    owner = _ref(Library, _("所有者"))
    month = models.DateField(_("月份"))
    consignment = _ref(Consignment, _("批次"))
    loans = models.PositiveIntegerField(_("借阅册次"))

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.month:%Y-%m} {self.library_id}: {self.loans}"


class LibraryMonthClass(LibraryMonthCube):
    clc_top = models.CharField(_("中图法大类"), max_length=1)
    category = models.CharField(_("读者类型"), max_length=10)

    class Meta:
        verbose_name = _("月借阅汇总（全馆，大类×读者类型）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LibraryMonthClassAge(LibraryMonthCube):
    clc_top = models.CharField(_("中图法大类"), max_length=1)
    age_band = models.CharField(_("年龄段"), max_length=8)

    class Meta:
        verbose_name = _("月借阅汇总（全馆，大类×年龄段）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class LoanMonth(MonthCube):
    """Every dimension at once: for the rare question no narrow cube answers."""

    clc_top = models.CharField(_("中图法大类"), max_length=1)
    clc2 = models.CharField(_("中图法二级类"), max_length=16)
    category = models.CharField(_("读者类型"), max_length=10)
    age_band = models.CharField(_("年龄段"), max_length=8)

    class Meta:
        verbose_name = _("月借阅汇总")
        verbose_name_plural = _("月借阅汇总")
        indexes = [models.Index(fields=["library", "month"]), models.Index(fields=["month"])]


class ReaderMonth(models.Model):
    """One row per reader, month and place where the reader borrowed: distinct readers cannot
    be summed across months, so they are counted from here (COUNT DISTINCT over the rows of
    the period), exactly, never estimated. `visits` counts the days the reader borrowed here
    (at this site, of this consignment). A visit — a reader at a site on a day — may take
    volumes of two consignments: it is counted once more, for questions that do not tell
    consignments apart, in `owner_visits` of the row of its first consignment of each owner,
    and in `site_visits` of the row of its first consignment of all."""

    library = _ref(Library, _("图书馆"))
    owner = _ref(Library, _("所有者"))
    consignment = _ref(Consignment, _("批次"))
    month = models.DateField(_("月份"))
    site = _ref(Site, _("借出站点"))
    site_kind = models.CharField(_("站点类型"), max_length=16)
    patron = _ref(Patron, _("读者"))
    category = models.CharField(_("读者类型"), max_length=10)
    age_band = models.CharField(_("年龄段"), max_length=8)
    loans = models.PositiveIntegerField(_("借阅册次"))
    visits = models.PositiveIntegerField(_("借阅到馆天次"))
    owner_visits = models.PositiveIntegerField(_("借阅到馆天次（按所有者）"), default=0)
    site_visits = models.PositiveIntegerField(_("借阅到馆天次（按站点）"), default=0)

    class Meta:
        verbose_name = _("月读者汇总")
        verbose_name_plural = _("月读者汇总")
        indexes = [
            models.Index(fields=["library", "month"]),
            models.Index(fields=["month"]),
            # Is a reader counted today already in the summarised part of the period?
            models.Index(fields=["patron", "month"]),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.patron_id}"


class ReaderCount(models.Model):
    """Distinct readers per calendar period (month, quarter, year), counted at refresh time
    from ReaderMonth, so that a page adds up a few hundred rows instead of counting distinct
    readers over a million.

    Readers add up across library (a reader borrows only in their own library), category
    (the reader's) and age band (fixed within a calendar year), but not across owner,
    consignment, site or site kind: a reader may borrow at two sites. So each period is
    counted once per combination of those four kept or rolled up (`rollup`, a bit mask of
    the kept columns; a rolled-up column is NULL), and a query reads the rows of exactly
    the combination it groups or filters by. A period still open counts up to the summary's
    reach (`until` is the first day after it, the last day held perhaps in part); the loans
    after the reach are added live (engine.readers.reader_counts)."""

    OWNER, CONSIGNMENT, SITE, SITE_KIND = 1, 2, 4, 8

    kind = models.CharField(_("期间类型"), max_length=8)  # month, quarter, year
    period = models.DateField(_("期间开始"))
    until = models.DateField(_("统计截至（不含）"))
    rollup = models.PositiveSmallIntegerField(_("保留维度"))
    library = _ref(Library, _("图书馆"))
    owner = _optional_ref(Library, _("所有者"))
    consignment = _optional_ref(Consignment, _("批次"))
    site = _optional_ref(Site, _("借出站点"))
    site_kind = models.CharField(_("站点类型"), max_length=16, null=True, blank=True)
    category = models.CharField(_("读者类型"), max_length=10)
    age_band = models.CharField(_("年龄段"), max_length=8)
    readers = models.PositiveIntegerField(_("读者人数"))
    visits = models.PositiveIntegerField(_("借阅到馆天次"))
    loans = models.PositiveIntegerField(_("借阅册次"))

    class Meta:
        verbose_name = _("期间读者人数")
        verbose_name_plural = _("期间读者人数")
        indexes = [models.Index(fields=["kind", "rollup", "period"])]

    def __str__(self):
        return f"{self.kind} {self.period} [{self.rollup}]: {self.readers}"


class TitleClass(models.Model):
    """The second-level CLC class of a title: the longest level-2 code its class number starts
    with. `clc` is the number it was computed from, so a corrected number is noticed."""

    title = models.OneToOneField(
        Title,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="report_class",
    )
    clc = models.CharField(_("中图分类号"), max_length=64, blank=True)
    clc2 = models.CharField(_("中图法二级类"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("书目二级类")
        verbose_name_plural = _("书目二级类")

    def __str__(self):
        return f"{self.clc} → {self.clc2}"


class ClcNumber(models.Model):
    """The second-level class of each distinct class number seen in the titles (see clc.py)."""

    clc = models.CharField(_("中图分类号"), max_length=64, primary_key=True)
    clc2 = models.CharField(_("中图法二级类"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("分类号二级类")
        verbose_name_plural = _("分类号二级类")

    def __str__(self):
        return f"{self.clc} → {self.clc2}"


class RefreshState(models.Model):
    """How far the summary tables reach: every loan checked out before local midnight of
    `summarised_until` is in them, or, after a refresh during the day, every loan checked out
    before `summarised_through` (an instant of the day before `summarised_until`); reports
    read later loans live."""

    name = models.CharField(max_length=16, primary_key=True, default="loans")
    summarised_until = models.DateField(_("汇总截至（不含）"))
    summarised_through = models.DateTimeField(
        _("当日汇总截至（不含）"),
        null=True,
        blank=True,
        help_text=_("白天刷新时，汇总表含当日此刻之前的借阅；空表示截至当日零时。"),
    )
    refreshed_at = models.DateTimeField(_("刷新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("汇总刷新状态")
        verbose_name_plural = _("汇总刷新状态")

    def __str__(self):
        return f"{self.name} → {self.summarised_until}"


class PeriodReportQuerySet(models.QuerySet):
    def accepted(self):
        return self.filter(status=PeriodReport.Status.ACCEPTED)


class PeriodReport(models.Model):
    """共享借阅工作报表: a county's figures for one period and consignment. Submitting freezes
    the figures in `figures`; they are never recomputed afterwards."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        RETURNED = "returned", _("已退回")
        ACCEPTED = "accepted", _("已通过")

    class Kind(models.TextChoices):
        MONTH = "month", _("月报")
        QUARTER = "quarter", _("季报")
        YEAR = "year", _("年报")

    EDITABLE = (Status.DRAFT, Status.RETURNED)

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="period_reports"
    )
    consignment = models.ForeignKey(
        Consignment,
        verbose_name=_("批次"),
        on_delete=models.PROTECT,
        related_name="period_reports",
    )
    kind = models.CharField(_("报表周期"), max_length=8, choices=Kind.choices)
    period = models.CharField(_("期间"), max_length=8, help_text=_("2026-06、2026-Q2 或 2026"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    narrative = models.TextField(_("工作说明"), blank=True)
    figures = models.JSONField(_("报送数据"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)
    # Admin fixes keep their history; the frozen figures are never edited, so not copied there.
    history = HistoricalRecords(excluded_fields=["figures"])

    objects = PeriodReportQuerySet.as_manager()

    SCOPE_LENDER = "consignment__lender"

    class Meta:
        verbose_name = _("共享借阅工作报表")
        verbose_name_plural = _("共享借阅工作报表")
        ordering = ["-starts_on", "library__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "consignment", "kind", "starts_on"],
                name="one_period_report_per_period",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="period_report_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "returned"]) | Q(figures__isnull=False),
                name="submitted_report_has_figures",
            ),
        ]

    def __str__(self):
        return f"{self.library} · {self.period} · {self.consignment.reference}"

    @property
    def is_editable(self):
        return self.status in self.EDITABLE

    @property
    def is_submitted(self):
        return self.status == self.Status.SUBMITTED

    @property
    def is_accepted(self):
        return self.status == self.Status.ACCEPTED


class PeriodReportEvent(models.Model):
    """The review trail of a period report: every submission, return and acceptance."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("报送")
        RETURNED = "returned", _("退回")
        ACCEPTED = "accepted", _("通过")

    report = models.ForeignKey(
        PeriodReport, verbose_name=_("报表"), on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=10, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    comment = models.TextField(_("意见"), blank=True)

    class Meta:
        verbose_name = _("报表审核记录")
        verbose_name_plural = _("报表审核记录")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.report_id} {self.action}"


class DemandSearch(models.Model):
    """读者需求: catalogue searches that found nothing, or only copies out on loan with readers
    already queueing for them, counted per library, site, month, CLC class and query.

    Who searched is not stored: no reader, address or session, only how many times the same
    thing was sought there that month. `key` joins the dimensions so that one unique index
    serves the counter's INSERT … ON CONFLICT on every database (see reports.demand)."""

    class Outcome(models.TextChoices):
        NONE = "none", _("未找到")
        QUEUED = "queued", _("均已借出且有人排队")

    key = models.CharField(max_length=255, unique=True)
    library = _ref(Library, _("图书馆"))
    site = _optional_ref(Site, _("站点"))
    month = models.DateField(_("月份"))
    clc_top = models.CharField(_("中图法大类"), max_length=1, blank=True)
    query = models.CharField(_("检索词"), max_length=64)
    outcome = models.CharField(_("结果"), max_length=8, choices=Outcome.choices)
    # For a queued search, the title whose copies were all out: what the rotation may bring.
    title = _optional_ref(Title, _("书目"))
    searches = models.PositiveIntegerField(_("检索次数"), default=0)

    SCOPE_SITES = ("site",)

    class Meta:
        verbose_name = _("读者需求检索")
        verbose_name_plural = _("读者需求检索")
        indexes = [models.Index(fields=["library", "month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.query}: {self.searches}"


class DemandMonth(models.Model):
    """读者需求 without the site: searches per library, month, CLC class, outcome and query,
    summed from DemandSearch by the nightly refresh for the months before its reach
    (RefreshState "demand"). The most sought queries of a library or a province read it;
    a question by site reads DemandSearch."""

    library = _ref(Library, _("图书馆"))
    month = models.DateField(_("月份"))
    clc_top = models.CharField(_("中图法大类"), max_length=1, blank=True)
    query = models.CharField(_("检索词"), max_length=64)
    outcome = models.CharField(_("结果"), max_length=8, choices=DemandSearch.Outcome.choices)
    searches = models.PositiveIntegerField(_("检索次数"))

    class Meta:
        verbose_name = _("读者需求月汇总")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.query}: {self.searches}"


class DemandSiteMonth(models.Model):
    """读者需求 without the query: searches per library, site, month, CLC class and outcome,
    summed with DemandMonth; the classes and the sites × months of the report read it."""

    library = _ref(Library, _("图书馆"))
    site = _optional_ref(Site, _("站点"))
    month = models.DateField(_("月份"))
    clc_top = models.CharField(_("中图法大类"), max_length=1, blank=True)
    outcome = models.CharField(_("结果"), max_length=8, choices=DemandSearch.Outcome.choices)
    searches = models.PositiveIntegerField(_("检索次数"))

    SCOPE_SITES = ("site",)

    class Meta:
        verbose_name = _("读者需求月汇总（站点）")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["library", "month"])]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.site_id}: {self.searches}"
