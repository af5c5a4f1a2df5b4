"""Long work that runs beside the web server: a job row the pages poll for progress, and the
bytes a job reads or writes (an uploaded manifest waiting for its commit, a label PDF).

Both live in the database, not on a web server's disk, so whichever server answers the next
request — or whichever worker runs the job — finds them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredFile(models.Model):
    """Bytes that must outlive one request. Deleted by the cleanup job after `expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    library = models.ForeignKey(
        "collections_app.Library", null=True, blank=True, on_delete=models.CASCADE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    data = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    # Set once, by a conditional update, when a staged upload is committed: a second commit of
    # the same preview finds it spent.
    spent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("暂存文件")
        verbose_name_plural = _("暂存文件")

    def __str__(self):
        return self.name


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("处理中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

        @property
        def is_finished(self) -> bool:
            return self in (self.SUCCEEDED, self.FAILED)

    class Kind(models.TextChoices):
        MANIFEST_PREVIEW = "manifest-preview", _("检查清单")
        MANIFEST_COMMIT = "manifest-commit", _("导入清单")
        LABELS = "labels", _("生成标签 PDF")
        PERIOD_REPORT_PDF = "period-report-pdf", _("生成报表 PDF")
        REPORT_REFRESH = "report-refresh", _("刷新统计汇总表")
        HOLD_EXPIRY = "hold-expiry", _("预约到期处理")
        ROTATION_RUN = "rotation-run", _("轮换调配")
        CLEANUP = "cleanup", _("清理过期文件")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("任务"), max_length=32, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    library = models.ForeignKey(
        verbose_name=_("图书馆"),
        to="collections_app.Library",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    created_by = models.ForeignKey(
        verbose_name=_("发起人"),
        to=settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    params = models.JSONField(_("参数"), default=dict, blank=True)
    input = models.ForeignKey(
        verbose_name=_("输入文件"),
        to=StoredFile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    output = models.ForeignKey(
        verbose_name=_("结果文件"),
        to=StoredFile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    total = models.PositiveIntegerField(_("总数"), default=0)
    done = models.PositiveIntegerField(_("已完成"), default=0)
    step = models.CharField(_("当前步骤"), max_length=200, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    # The run that owns the job now: a run that was given up for dead and re-queued finds its
    # token replaced and stops at its next progress report.
    run_token = models.UUIDField(_("运行令牌"), null=True, blank=True)
    task_id = models.CharField(_("队列任务号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["heartbeat_at"],
                name="job_running_heartbeat_idx",
                condition=models.Q(status="running"),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")) | models.Q(total=0),
                name="job_done_within_total",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.Status(self.status).is_finished

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)

    def as_json(self) -> dict:
        return {
            "id": str(self.id),
            "kind": self.kind,
            "kind_label": str(self.get_kind_display()),
            "status": self.status,
            "status_label": str(self.get_status_display()),
            "finished": self.is_finished,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "step": self.step,
            "message": self.result.get("message", ""),
            "error": self.error,
            "attempts": self.attempts,
        }
