from django.core.management.base import BaseCommand, CommandError

from collections_app.models import Library, Title
from collections_app.title_keys import fill_title_search_keys


class Command(BaseCommand):
    help = (
        "Work out the pinyin (full and initials) that the public catalogue searches, for titles "
        "that have none yet; --refresh recomputes every title's."
    )

    def add_arguments(self, parser):
        parser.add_argument("--library", help="only this library's titles (its code)")
        parser.add_argument("--refresh", action="store_true", help="recompute every title")
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")

    def handle(self, *args, library=None, refresh=False, dry_run=False, **options):
        titles = Title.objects.all()
        if library:
            if not Library.objects.filter(code=library).exists():
                raise CommandError(f"no library with code {library!r}")
            titles = titles.filter(library__code=library)
        if dry_run:
            if not refresh:
                titles = titles.filter(title_pinyin="", title_initials="").exclude(title="")
            self.stdout.write(f"{titles.count()} titles would get their pinyin (dry run)")
            return
        written = fill_title_search_keys(titles, refresh=refresh)
        self.stdout.write(f"{written} titles got their pinyin")
