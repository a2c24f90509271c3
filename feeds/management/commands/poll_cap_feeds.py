"""``manage.py poll_cap_feeds``: one pass over every due CAP feed, here and now."""

from django.core.management.base import BaseCommand

from feeds import services
from feeds.models import CapFeed


class Command(BaseCommand):
    help = "Poll every due CAP feed once (CAP_FEEDS synced first) and say what came of it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Poll every active feed, backoff or not."
        )

    def handle(self, *args, all=False, **options):
        for problem in services.sync_feeds_from_settings():
            self.stderr.write(problem)
        ids = (
            list(CapFeed.objects.filter(is_active=True).values_list("pk", flat=True))
            if all
            else services.due_feed_ids()
        )
        failed = 0
        for feed_id in ids:
            report = services.poll_feed(feed_id=feed_id)
            feed = CapFeed.objects.get(pk=feed_id)
            if report is None:
                self.stdout.write(f"{feed.agency} {feed.url}: being polled elsewhere; skipped.")
                continue
            failed += not report.ok
            self.stdout.write(f"{feed.agency} {feed.url}: {report.summary()}")
        self.stdout.write(f"{len(ids)} feed(s) polled, {failed} failed.")
