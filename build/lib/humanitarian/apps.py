from django.apps import AppConfig


class HumanitarianConfig(AppConfig):
    name = "humanitarian"
    verbose_name = "Humanitarian and refugee assistance"
