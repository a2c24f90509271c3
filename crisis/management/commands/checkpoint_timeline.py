"""Sign a timeline checkpoint now (beat does it daily: crisis.tasks.checkpoint_timeline)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from crisis.services.timeline import create_checkpoint


class Command(BaseCommand):
    help = (
        "Sign where every timeline chain and hotline transcript stands now, with the "
        "Ed25519 key in TIMELINE_SIGNING_KEY_FILE. Without a key nothing is signed."
    )

    def handle(self, *args, **options):
        try:
            checkpoint = create_checkpoint()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if checkpoint is None:
            self.stderr.write(
                "Skipped: TIMELINE_SIGNING_KEY_FILE is not set, so nothing was signed "
                "(production must set it; see docs/operations.md)."
            )
            return
        self.stdout.write(
            f"Checkpoint #{checkpoint.seq} signed with key {checkpoint.key_id}: "
            f"{len(checkpoint.streams)} stream head(s), "
            f"{len(checkpoint.transcripts)} transcript(s)."
        )
