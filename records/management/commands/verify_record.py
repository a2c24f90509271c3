"""Prove offline that an exported crisis record is complete and untampered."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from records.verify import load_keys, verify_archive


class Command(BaseCommand):
    help = (
        "Check a crisis record (the zip from GET /api/v1/crises/{id}/record/) without the "
        "database: every file against the manifest's SHA-256, the timeline and transcript "
        "hash chains against the manifest's heads, and, with --key (the published "
        "TIMELINE_VERIFY_KEY_FILE), the manifest's Ed25519 signature. Exits 1 naming what "
        "failed; see docs/records.md."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="The record's zip file.")
        parser.add_argument(
            "--key",
            help="A PEM file of trusted Ed25519 public keys: the manifest must be signed by one.",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path} cannot be read: {exc.strerror}") from exc
        keys = None
        if options.get("key"):
            try:
                keys = load_keys(Path(options["key"]).read_bytes())
            except OSError as exc:
                raise CommandError(f"{options['key']} cannot be read: {exc.strerror}") from exc
            except ValueError as exc:
                raise CommandError(f"{options['key']}: {exc}") from exc
        result = verify_archive(data, keys=keys)
        for problem in result.problems:
            self.stderr.write(f"FAILED: {problem}")
        for note in result.notes:
            self.stdout.write(f"Note: {note}")
        if not result.ok:
            self.stderr.write(f"{path}: {len(result.problems)} check(s) failed.")
            sys.exit(1)
        crisis = result.manifest.get("crisis", {})
        marker = " (EXERCISE)" if result.manifest.get("exercise") else ""
        parts = ", ".join(f"{v} {k}" for k, v in result.checked.items())
        self.stdout.write(
            f"{path}: the record of {crisis.get('reference')}{marker} is complete and "
            f"untampered ({parts})."
        )
