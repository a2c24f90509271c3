"""Two-step login: a code from an authenticator app (TOTP) after the password.

Who: when ``settings.MFA_REQUIRED`` (the default), staff and coordinators must set it up
and use it; anyone else may set it up, and from then on must use it too. Where: the
console's log-in (password, then ``/login/code/`` or, the first time, ``/login/set-up/``),
the admin (its log-in page sends people to the console's) and the token endpoint (an
``otp`` field next to the password).

How a session is trusted: the console logs a person in only after the code step, so a
session of someone who owes a code never exists; :class:`RequireMFAMiddleware` ends any
other such session (one from before two-step login was required, or a staff flag given
since). Recovery codes (ten, shown once, each usable once) stand in for the app; a wrong
code counts as a failed log-in (``core.logins``), and django-otp slows down
repeated wrong codes per device as well.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user_model, logout
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.access import access_for
from core.errors import DomainError, InvalidInput

RECOVERY_CODE_COUNT = 10
PENDING_KEY = "mfa_pending"
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


class CodeRequired(DomainError):
    status = 401
    code = "otp_required"


class WrongCode(DomainError):
    status = 401
    code = "invalid_otp"


class SetUpRequired(DomainError):
    status = 403
    code = "mfa_setup_required"


# --- who ------------------------------------------------------------------------------------
def must_use_mfa(user) -> bool:
    """Staff and coordinators, when two-step login is required (``MFA_REQUIRED``)."""
    if not settings.MFA_REQUIRED or not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or access_for(user).is_coordinator


def has_mfa(user) -> bool:
    """Has set up an authenticator app (confirmed)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def owes_code(user) -> bool:
    """After the password, this person must give a code (or set up an app first)."""
    return has_mfa(user) or must_use_mfa(user)


def session_passed_code(session, user) -> bool:
    """This session's log-in passed the code step (what django-otp's middleware checks).

    For connections that do not go through the HTTP middleware (websockets).
    """
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.user_id == user.pk and device.confirmed


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- checking a code ------------------------------------------------------------------------
def check_code(user, code: str):
    """The device that accepts ``code`` (app code or unused recovery code), else None.

    A recovery code is spent by the check that accepts it. Devices slow down repeated
    wrong codes (django-otp's throttling), so a right code right after several wrong
    ones may be refused: the caller says "wait and try again" either way.
    """
    code = "".join((code or "").split()).replace("-", "").lower()
    # App codes are 6 digits, recovery codes 8 letters and digits: only the matching kind
    # is tried, so a mistyped app code does not also slow down the recovery codes.
    kind = TOTPDevice if len(code) == 6 and code.isdigit() else StaticDevice
    with transaction.atomic():
        for device in kind.objects.filter(user=user, confirmed=True):
            if device.verify_token(code):
                return device
    return None


def require_code(user, code: str | None):
    """The token endpoint's rule: the device that accepted ``code``, or a refusal.

    Raises :class:`SetUpRequired` if the person must use two-step login but has not set it
    up, :class:`CodeRequired` without a code, :class:`WrongCode` for a wrong one.
    """
    if not has_mfa(user):
        raise SetUpRequired(
            _(
                "This account must use two-step login: set it up in the console (Account "
                '> Two-step login), then send the code as "otp".'
            )
        )
    if not code:
        raise CodeRequired(
            _(
                "This account uses two-step login: send the 6-digit code from your "
                'authenticator app (or a recovery code) as "otp".'
            )
        )
    device = check_code(user, code)
    if device is None:
        raise WrongCode(_("That code is not right (or came too soon after a wrong one)."))
    return device


# --- setting it up --------------------------------------------------------------------------
def start_setup(user) -> TOTPDevice:
    """The person's app device waiting for its first code (made once, kept until used)."""
    if has_mfa(user):
        raise InvalidInput(_("Two-step login is already set up."), code="mfa_already_set_up")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def finish_setup(user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the app with its first code; returns it and new recovery codes (show once).

    Transactional: the app is confirmed and the codes made together, or neither.
    """
    with transaction.atomic():
        device = start_setup(user)
        code = "".join((code or "").split())
        if not code.isdigit() or not device.verify_token(code):
            raise WrongCode(
                _(
                    "That code is not right. Check the app shows this account, and that the "
                    "phone's clock is correct."
                )
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return device, new_recovery_codes(user)


def new_recovery_codes(user) -> list[str]:
    """Replace the person's recovery codes with ten new ones and return them (show once)."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


# --- the step between password and code ----------------------------------------------------
@dataclass(frozen=True)
class Pending:
    user: object
    backend: str
    next_url: str


def start_pending(request, user, next_url: str) -> None:
    """Remember who gave the right password, for the code step (not a log-in yet)."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": time.time(),
    }


def pending(request) -> Pending | None:
    """Who is between password and code, if they got there recently enough."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - data.get("at", 0) > settings.MFA_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None:
        return None
    return Pending(user=user, backend=data["backend"], next_url=data.get("next") or "")


def end_pending(request) -> None:
    request.session.pop(PENDING_KEY, None)


# --- sessions that owe a code end -----------------------------------------------------------
class RequireMFAMiddleware:
    """Log out a session of someone who must use two-step login but did not.

    Sits after django-otp's ``OTPMiddleware``. Costs nothing when two-step login is not
    required or the request has no logged-in session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.MFA_REQUIRED and SESSION_KEY in request.session:
            user = request.user
            if user.is_authenticated and not user.is_verified() and must_use_mfa(user):
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(request, _("Please log in again: your account needs a code."))
        return self.get_response(request)


def login_device(request, device) -> None:
    """Mark this session as having passed two-step login with ``device`` (just set up)."""
    otp_login(request, device)
