from django.core.management.base import BaseCommand

from circulation.services.holds import holds_expire


class Command(BaseCommand):
    help = (
        "Expire holds (预约) that waited past their date, and trapped copies not picked up "
        "within the loan rule's pickup days. Run daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would expire; change nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        counts = holds_expire(dry_run=dry_run)
        verb = "would expire" if dry_run else "expired"
        self.stdout.write(
            f"{verb}: {counts['waiting']} waiting holds, {counts['trapped']} uncollected copies"
        )
