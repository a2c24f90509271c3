from django.apps import AppConfig


class CyberConfig(AppConfig):
    name = "cyber"
    verbose_name = "Cyber incidents (STIX 2.1)"
