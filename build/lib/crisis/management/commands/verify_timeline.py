"""Check every timeline chain; report the first broken entry of each stream; exit 1 on a break."""

import sys

from django.core.management.base import BaseCommand

from crisis.models import TimelineEntry, TimelineStream
from crisis.services.timeline import verify_all


class Command(BaseCommand):
    help = (
        "Verify the hash chain of every timeline stream. Prints the first broken entry of "
        "each broken stream and exits with status 1 if any; otherwise prints a summary."
    )

    def handle(self, *args, **options):
        breaks = verify_all()
        for found in breaks:
            where = f"#{found.seq}" + (f" (entry id {found.entry_id})" if found.entry_id else "")
            self.stderr.write(f"BROKEN {found.stream} at {where}: {found.reason}")
        if breaks:
            self.stderr.write(f"{len(breaks)} broken stream(s).")
            sys.exit(1)
        self.stdout.write(
            f"All {TimelineStream.objects.count()} timeline streams intact "
            f"({TimelineEntry.objects.count()} entries)."
        )
