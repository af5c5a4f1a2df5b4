from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from collections_app.models import Consignment, Library
from reports.models import PeriodReport
from reports.periods import parse_period
from reports.services import period_report_prepare


class Command(BaseCommand):
    help = _(
        "为每个县级图书馆的每个共享借阅批次准备某一期间的工作报表草稿，供定时任务调用。"
        "已有的报表保持不变；县馆馆员审阅、填写说明后报送。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--period", required=True, help=_("期间：2026-06（月）、2026-Q2（季度）或 2026（年）。")
        )
        parser.add_argument("--dry-run", action="store_true", help=_("只列出将创建的草稿。"))

    def handle(self, *args, period, dry_run=False, **options):
        try:
            chosen = parse_period(period)
        except ValueError as error:
            raise CommandError(str(error)) from error
        consignments = (
            Consignment.objects.filter(
                library__kind=Library.Kind.COUNTY, agreement_date__lt=chosen.end
            )
            .exclude(status=Consignment.Status.CLOSED)
            .select_related("library")
            .order_by("library__code", "reference")
        )
        existing = set(
            PeriodReport.objects.filter(kind=chosen.kind, starts_on=chosen.start).values_list(
                "library_id", "consignment_id"
            )
        )
        created = 0
        for consignment in consignments:
            if (consignment.library_id, consignment.pk) in existing:
                continue
            if dry_run:
                self.stdout.write(f"{consignment.library.name} · {consignment.reference}")
            else:
                period_report_prepare(
                    user=None, library=consignment.library, consignment=consignment, period=chosen
                )
            created += 1
        message = _("%(period)s：新建报表草稿 %(created)d 份，已有 %(existing)d 份。") % {
            "period": chosen.text,
            "created": created,
            "existing": len(existing),
        }
        if dry_run:
            message = _("（演练，未写入）") + message
        self.stdout.write(self.style.SUCCESS(message))
