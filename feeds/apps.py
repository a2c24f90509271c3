from django.apps import AppConfig
from django.core import checks


class FeedsConfig(AppConfig):
    name = "feeds"
    verbose_name = "CAP feeds (national agencies' alerts in, ours out)"

    def ready(self):
        checks.register(check_cap_feeds_setting)


def check_cap_feeds_setting(app_configs=None, **kwargs):
    """``manage.py check`` (and every start) names what is wrong with CAP_FEEDS' shape."""
    from django.conf import settings

    from feeds.services import settings_feed_problems

    return [
        checks.Error(problem, hint='e.g. [{"url": "https://…/cap.atom", "state": "THA", '
                     '"agency": "TMD"}]', id="feeds.E001")
        for problem in settings_feed_problems(settings.CAP_FEEDS)
    ]  # fmt: skip
