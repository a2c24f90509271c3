"""Check every timeline chain and the signed checkpoints that anchor them; exit 1 on a break."""

import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from crisis.models import TimelineEntry, TimelineStream
from crisis.models.timeline import TimelineCheckpoint
from crisis.services.timeline import verify_all


class Command(BaseCommand):
    help = (
        "Verify the hash chain of every timeline stream, the signature of every checkpoint, "
        "and that what each checkpoint signed (stream heads, hotline transcripts) is "
        "unchanged. Prints the first break of each broken chain and exits with status 1 "
        "if any; otherwise prints a summary."
    )

    def handle(self, *args, **options):
        try:
            breaks = verify_all()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for found in breaks:
            where = f"#{found.seq}" + (f" (row id {found.entry_id})" if found.entry_id else "")
            self.stderr.write(f"BROKEN {found.stream} at {where}: {found.reason}")
        if breaks:
            self.stderr.write(f"{len(breaks)} broken chain(s) or checkpoint(s).")
            sys.exit(1)
        checkpoints = TimelineCheckpoint.objects.count()
        self.stdout.write(
            f"All {TimelineStream.objects.count()} timeline streams intact "
            f"({TimelineEntry.objects.count()} entries); {checkpoints} signed checkpoint(s) valid."
        )
        if not getattr(settings, "TIMELINE_VERIFY_KEY_FILE", ""):
            self.stdout.write(
                "Note: TIMELINE_VERIFY_KEY_FILE is not set, so signatures were checked "
                "against the public key stored with each checkpoint. That does not stop "
                "someone who can write the database; production sets the verify key."
            )
        if not checkpoints:
            self.stdout.write(
                "Note: no checkpoint yet, so a rewritten and re-hashed tail would not be "
                "seen. Set TIMELINE_SIGNING_KEY_FILE and run checkpoint_timeline (beat does "
                "it daily)."
            )
