import importlib
import importlib.util

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

NOT_PRODUCTION_FLAG = "--i-know-this-is-not-production"


class Command(BaseCommand):
    help = (
        "Create or refresh the demo data (idempotent) and print the demo logins. Refuses to "
        f"run with DEBUG off unless {NOT_PRODUCTION_FLAG}; never changes the password of a "
        "person who already exists."
    )
    #: The test suite runs with DEBUG off (pytest-django) on a database of its own.
    assume_not_production = False

    def add_arguments(self, parser):
        parser.add_argument(
            NOT_PRODUCTION_FLAG,
            action="store_true",
            dest="not_production",
            help="Seed even though DEBUG is off (a staging copy, never production).",
        )

    def handle(self, *args, **options):
        if not (settings.DEBUG or options["not_production"] or self.assume_not_production):
            raise CommandError(
                "DEBUG is off, so this looks like production: the demo adds made-up states, "
                "desks, people and crises. Run it only on a development or staging database, "
                f"with {NOT_PRODUCTION_FLAG}."
            )
        logins = []
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if importlib.util.find_spec(module_name) is None:
                continue
            result = importlib.import_module(module_name).seed()
            if result:
                logins.extend(result)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(
            f"Demo logins (password: {settings.DEMO_PASSWORD!r} from DEMO_PASSWORD, for logins "
            "this run created; existing people keep theirs):"
        )
        for username, what in logins:
            self.stdout.write(f"  {username:<16} {what}")
