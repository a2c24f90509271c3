from django.apps import AppConfig


class PagingConfig(AppConfig):
    name = "paging"
    verbose_name = "Paging (contact methods, pages, delivery)"

    def ready(self):
        from paging.services import delivery  # noqa: F401  (registers paging.attempt)
