"""Who is asking, as the platform sees it: one resolver, named in settings.

``core`` imports no app, yet the API base and the console shell must know the caller's
desks and roles. The directory app owns that answer; settings name it
(``ACCESS_RESOLVER = "directory.access.access_for"``), as Django names its user model
with ``AUTH_USER_MODEL``. The object returned has the directory's ``Access`` interface:
``is_authenticated``, ``desks()``, ``default_desk()``, ``is_coordinator`` …
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils.module_loading import import_string


@functools.cache
def _resolver():
    return import_string(settings.ACCESS_RESOLVER)


def access_for(user):
    """The caller's access (the directory's ``Access``), via ``settings.ACCESS_RESOLVER``."""
    return _resolver()(user)
