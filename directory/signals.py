"""Tell a person's open connections that their access changed, so they re-check it.

Access is worked out when a websocket connects; without this, a person removed from a
desk, deactivated, logged out or whose API token was deleted would keep a live socket
(and keep receiving their old desks' traffic) until it happened to close. Every one of
those changes publishes ``ACCESS_CHANGED`` on the person's group
(``core.events.user_group``), after the transaction commits; each connection of that
person re-reads its access from the database and closes (4403) if it shrank or is gone
(``hotline.consumers``). The channel layer may lose an event; every websocket action
also re-reads the acting person's desks, so a lost event never lets anyone act.

Signals rather than service calls: these changes happen in the admin, in Django's own
logout and in django-rest-knox's token model, none of which call our services.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from knox.models import AuthToken

from core.events import publish_on_commit, user_group
from directory.models import Desk, DeskMembership

#: The event's ``type``; consumers act on it and never forward it to a client.
ACCESS_CHANGED = "access.changed"


def access_changed(user_id: int, reason: str, **extra) -> None:
    """Queue the event for ``user_id``'s connections (sent once the transaction commits)."""
    publish_on_commit(user_group(user_id), {"type": ACCESS_CHANGED, "reason": reason, **extra})


@receiver(post_save, sender=DeskMembership, dispatch_uid="directory.membership_saved")
def _membership_saved(sender, instance, created, **kwargs):
    access_changed(instance.user_id, "desk_added" if created else "role_changed")


@receiver(post_delete, sender=DeskMembership, dispatch_uid="directory.membership_deleted")
def _membership_deleted(sender, instance, **kwargs):
    access_changed(instance.user_id, "desk_removed")


@receiver(post_save, sender=Desk, dispatch_uid="directory.desk_saved")
def _desk_saved(sender, instance, created, **kwargs):
    if created or instance.is_active:
        return
    for user_id in instance.memberships.values_list("user_id", flat=True):
        access_changed(user_id, "desk_deactivated")


@receiver(post_save, sender=get_user_model(), dispatch_uid="directory.user_saved")
def _user_saved(sender, instance, created, **kwargs):
    # Saved on every log in (last_login): only a deactivation concerns live connections.
    if not created and not instance.is_active:
        access_changed(instance.pk, "deactivated")


@receiver(user_logged_out, dispatch_uid="directory.logged_out")
def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    session = getattr(request, "session", None)
    # Sent before the session is flushed: name it, so its sockets close without racing
    # the flush.
    access_changed(user.pk, "logged_out", session=getattr(session, "session_key", None))


@receiver(post_delete, sender=AuthToken, dispatch_uid="directory.token_deleted")
def _token_deleted(sender, instance, **kwargs):
    # Revoked (log out, rotation, the admin) or purged after expiry: the sockets opened
    # with this token, and only those, close.
    access_changed(instance.user_id, "token_deleted", token=instance.digest)
