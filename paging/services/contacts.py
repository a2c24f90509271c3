"""Contact methods: added by their owner, verified with a one-time code sent by them.

The code (six digits) is stored as an HMAC, expires after ``PAGING_VERIFY_CODE_SECONDS``
and allows ``PAGING_VERIFY_MAX_TRIES`` wrong guesses; then a new one must be asked for.
It is sent after commit, by the method itself (an SMS for an SMS number, a call reading it
out for a voice number); if the transport fails, asking again sends a new one.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import make_msgid
from django.db import IntegrityError, transaction
from django.template.loader import select_template
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput, NotFound
from paging.models import ContactMethod
from paging.preferences import in_language_of
from paging.transports import Message, TransportError, offered_kinds, transport_for

logger = logging.getLogger(__name__)

_SALT = "paging.verify"


def _hash(method: ContactMethod, code: str) -> str:
    return salted_hmac(
        _SALT, f"{method.pk}:{method.address}:{code}", algorithm="sha256"
    ).hexdigest()


def add_contact_method(*, user, kind: str, address: str, label: str = "") -> ContactMethod:
    """Add a method for ``user`` (their own) and send it a verification code.

    400 for a kind no transport delivers or a malformed address; 409 if they have it.
    """
    transport = transport_for(kind)
    if transport is None:
        raise InvalidInput(
            _("%(kind)s is not a contact method we can deliver to.") % {"kind": repr(kind)},
            code="unknown_contact_kind",
            details={"offered": offered_kinds()},
        )
    try:
        address = transport.validate_address(address)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_address", details={"kind": kind}) from None
    with transaction.atomic():
        position = ContactMethod.objects.filter(user=user).count()
        try:
            with transaction.atomic():
                method = ContactMethod.objects.create(
                    user=user, kind=kind, address=address, label=label[:64], position=position
                )
        except IntegrityError:
            raise Conflict(_("You already have this contact method."), code="duplicate") from None
        _new_code(method)
    return method


def send_verification_code(*, user, method_id: int) -> ContactMethod:
    """Send a new code to one of ``user``'s unverified methods (the old code stops)."""
    with transaction.atomic():
        method = _own(user, method_id, lock=True)
        if method.is_verified:
            raise Conflict(_("This contact method is already verified."), code="already_verified")
        _new_code(method)
    return method


def verify_contact_method(*, user, method_id: int, code: str) -> ContactMethod:
    """Verify one of ``user``'s methods with the code it was sent. 400 when the code is
    wrong, expired or used up; a wrong guess counts even though it is refused."""
    code = str(code or "").strip()
    with transaction.atomic():
        method = _own(user, method_id, lock=True)
        if method.is_verified:
            return method
        error = None
        if not method.code_hash or method.code_expires_at is None:
            error = InvalidInput("No code was sent; ask for one.", code="no_code")
        elif method.code_attempts >= settings.PAGING_VERIFY_MAX_TRIES:
            error = InvalidInput(
                "Too many wrong codes; ask for a new one.", code="too_many_attempts"
            )
        elif timezone.now() >= method.code_expires_at:
            error = InvalidInput("The code has expired; ask for a new one.", code="code_expired")
        elif not constant_time_compare(_hash(method, code), method.code_hash):
            method.code_attempts += 1
            method.save(update_fields=["code_attempts"])
            error = InvalidInput(
                "The code is wrong.",
                code="wrong_code",
                details={
                    "tries_left": max(settings.PAGING_VERIFY_MAX_TRIES - method.code_attempts, 0)
                },
            )
        if error is None:
            method.verified_at = timezone.now()
            method.code_hash = ""
            method.code_expires_at = None
            method.save(update_fields=["verified_at", "code_hash", "code_expires_at"])
    if error is not None:  # raised after the commit, so the counted guess stays counted
        raise error
    return method


def remove_contact_method(*, user, method_id: int) -> None:
    with transaction.atomic():
        _own(user, method_id, lock=True).delete()


def _own(user, method_id: int, *, lock: bool) -> ContactMethod:
    methods = ContactMethod.objects.filter(user=user, pk=method_id)
    method = (methods.select_for_update() if lock else methods).first()
    if method is None:
        raise NotFound(_("No such contact method of yours."))
    return method


def _new_code(method: ContactMethod) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    method.code_hash = _hash(method, code)
    method.code_expires_at = timezone.now() + timedelta(seconds=settings.PAGING_VERIFY_CODE_SECONDS)
    method.code_attempts = 0
    method.save(update_fields=["code_hash", "code_expires_at", "code_attempts"])
    with in_language_of(method.user):
        message = Message(
            to=method.address,
            subject=_("Your verification code for crisis hotline paging"),
            body=select_template(
                [f"paging/{method.kind}/verify.txt", "paging/email/verify.txt"]
            ).render(
                {
                    "code": code,
                    "method": method,
                    "minutes": settings.PAGING_VERIFY_CODE_SECONDS // 60,
                    "person": method.user,
                },
            ),
            message_id=make_msgid(domain=settings.PAGING_MESSAGE_ID_DOMAIN),
        )
    transport = transport_for(method.kind)

    def send():
        try:
            transport.send(message)
        except TransportError as exc:
            logger.warning("paging: verification code to %s not sent: %s", method.pk, exc.reason)

    transaction.on_commit(send)
