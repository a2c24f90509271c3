"""Languages: a person's remembered choice, the switch, and the list people choose from.

Django's ``LocaleMiddleware`` picks a language from the language cookie or the browser's
``Accept-Language``. For a logged-in person :class:`PersonLanguageMiddleware` then applies
the language they chose in the console, which is kept on their preferences (core keeps no
models: ``settings.PERSON_LANGUAGE_RESOLVER`` / ``PERSON_LANGUAGE_RECORDER`` name the two
functions, filled by ``paging.preferences``). The choice is read once per session and
cached in it, so a page costs no extra query.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string

SESSION_KEY = "console_language"


def supported(code: str | None) -> bool:
    return bool(code) and code in dict(settings.LANGUAGES)


def language_for(user) -> str:
    """The person's chosen language code, or ``""`` when they never chose one."""
    code = import_string(settings.PERSON_LANGUAGE_RESOLVER)(user)
    return code if supported(code) else ""


def remember_language(request, code: str) -> None:
    """Keep ``code`` as the person's language (their preferences and this session)."""
    if request.user.is_authenticated:
        import_string(settings.PERSON_LANGUAGE_RECORDER)(request.user, code)
        request.session[SESSION_KEY] = code
    translation.activate(code)
    request.LANGUAGE_CODE = code


class PersonLanguageMiddleware:
    """After authentication: a logged-in person's own language wins over the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            code = request.session.get(SESSION_KEY)
            if code is None:
                code = language_for(user)
                request.session[SESSION_KEY] = code
            if supported(code):
                translation.activate(code)
                request.LANGUAGE_CODE = code
        return self.get_response(request)
