import importlib
import importlib.util

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or refresh the demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins = []
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if importlib.util.find_spec(module_name) is None:
                continue
            result = importlib.import_module(module_name).seed()
            if result:
                logins.extend(result)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(f"Demo logins (password: {settings.DEMO_PASSWORD!r} from DEMO_PASSWORD):")
        for username, what in logins:
            self.stdout.write(f"  {username:<16} {what}")
