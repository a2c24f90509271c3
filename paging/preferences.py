"""A person's preferences kept beside their quiet hours: the language they read.

Core's console applies it (``core.i18n``, through ``settings.PERSON_LANGUAGE_RESOLVER``);
paging renders e-mails and SMS texts in it.
"""

from __future__ import annotations

from django.utils import translation

from paging.models import PagingPreference


def language_for(user) -> str:
    """The person's chosen language code, ``""`` when they never chose one."""
    if user is None or user.pk is None:
        return ""
    return (
        PagingPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""
    )


def languages_of(user_ids) -> dict[int, str]:
    """:func:`language_for` for many people in one query: ``{user id: code}`` for those
    who chose one."""
    return dict(
        PagingPreference.objects.filter(user_id__in=set(user_ids))
        .exclude(language="")
        .values_list("user_id", "language")
    )


def remember_language(user, code: str) -> None:
    PagingPreference.objects.update_or_create(user=user, defaults={"language": code})


def in_language_of(user):
    """``with in_language_of(person):`` render what they will read in their language (the
    one they chose; else the current one: the browser's on a page, English in a task)."""
    return translation.override(language_for(user) or translation.get_language())
