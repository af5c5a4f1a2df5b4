from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs.models import Job
from jobs.services import job_start
from reports.facts import reach_text, refresh_report_tables, summarised_until, summary_reach
from reports.periods import parse_period


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(_("日期需要 YYYY-MM-DD 格式：%(value)s") % {"value": value}) from error


class Command(BaseCommand):
    help = _(
        "刷新统计报表的汇总表（日借阅、月借阅、月读者、月读者需求）。"
        "默认从上次汇总截至日前 7 天重算到昨天，今天的借阅由报表页面实时统计；"
        "--today 连今天一分钟前的借阅也汇总"
        "（营业时间内每小时运行，报表页面只需实时统计最近的借阅）；"
        "--period 重算某一期间（数据修正之后），--all 全部重建。"
        "可重复运行，结果相同。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", help=_("重算的期间：2026-06、2026-Q2 或 2026。"))
        parser.add_argument("--since", type=_day, help=_("从这一天（YYYY-MM-DD）起重算。"))
        parser.add_argument("--all", action="store_true", help=_("从第一笔借阅起全部重建。"))
        parser.add_argument(
            "--today",
            action="store_true",
            help=_("连今天一分钟前的借阅也汇总（营业时间内每小时运行）。"),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=_("只显示会重算的范围，不写入。")
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help=_("交给后台工作进程（db_worker）按默认范围刷新，不在这里运行。"),
        )

    def handle(
        self,
        *args,
        period=None,
        since=None,
        all=False,
        today=False,
        dry_run=False,
        enqueue=False,
        **options,
    ):
        if enqueue and not dry_run:
            job = job_start(kind=Job.Kind.REPORT_REFRESH, params={"today": today})
            self.stdout.write(_("已排队：任务 %(id)s。") % {"id": job.pk})
            return
        until = timezone.localdate()
        if period:
            try:
                chosen = parse_period(period)
            except ValueError as error:
                raise CommandError(str(error)) from error
            since, until = chosen.start, min(chosen.end, until)
        if all:
            since = date(1900, 1, 1)
        if dry_run:
            self.stdout.write(
                _("汇总现截至 %(reach)s（不含）；将从 %(since)s 重算到 %(until)s（不含）。")
                % {
                    "reach": reach_text(summary_reach()) if summarised_until() else "—",
                    "since": since or "—",
                    "until": until,
                }
            )
            return
        through = timezone.now() if today and not period else None
        counts = refresh_report_tables(until=until, since=since, through=through)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "汇总表已刷新：%(start)s 至 %(end)s（不含），日借阅 %(days)d 行，"
                    "月借阅 %(months)d 行，月读者 %(readers)d 行；汇总截至 %(reach)s。"
                )
                % {
                    "start": counts["start"],
                    "end": counts["end"],
                    "days": counts["loan_days"],
                    "months": counts["loan_months"],
                    "readers": counts["reader_months"],
                    "reach": reach_text(counts["summarised_through"]),
                }
            )
        )
