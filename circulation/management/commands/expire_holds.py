from django.core.management.base import BaseCommand

from circulation.services.holds import holds_expire
from jobs.models import Job
from jobs.services import job_start


class Command(BaseCommand):
    help = (
        "Expire holds (预约) that waited past their date, and trapped copies not picked up "
        "within the loan rule's pickup days. Run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would expire; change nothing."
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Hand the work to the background worker (db_worker) instead of doing it here.",
        )

    def handle(self, *args, dry_run=False, enqueue=False, **options):
        if enqueue and not dry_run:
            job = job_start(kind=Job.Kind.HOLD_EXPIRY)
            self.stdout.write(f"queued: job {job.pk}")
            return
        counts = holds_expire(dry_run=dry_run)
        verb = "would expire" if dry_run else "expired"
        self.stdout.write(
            f"{verb}: {counts['waiting']} waiting holds, {counts['trapped']} uncollected copies"
        )
