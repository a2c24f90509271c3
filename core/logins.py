"""Login limits: who the client is, what a locked-out caller is told, failures counted.

Every way in (the console's password and code steps, the token endpoint) counts failures
through django-axes, in the database all web processes share. Two counts, each on its own
(``AXES_LOCKOUT_PARAMETERS``): failures on an account from any address, and failures from
an address on any account. Either reaching ``AXES_FAILURE_LIMIT`` refuses further tries
until ``AXES_COOLOFF_TIME`` has passed since the last failure.

The address is the one that connected (``REMOTE_ADDR``) unless that is one of
``TRUSTED_PROXIES``: only then does ``X-Forwarded-For`` count, read from the right (each
proxy appends) up to the first address that is not a trusted proxy, the same rule uvicorn
applies with ``--forwarded-allow-ips`` set from the same variable. So a client cannot
pick its own address, and rotating a forged header gains nothing.
"""

from __future__ import annotations

import functools
import ipaddress

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.errors import DomainError

LOCKED_OUT_MESSAGE = (
    "Too many failed log-in attempts for this account or from this address. "
    "Try again in {minutes} minutes."
)


class LockedOut(DomainError):
    status = 429
    code = "locked_out"


def lockout_minutes() -> int:
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def locked_out_error() -> LockedOut:
    minutes = lockout_minutes()
    return LockedOut(
        LOCKED_OUT_MESSAGE.format(minutes=minutes), details={"retry_after_seconds": minutes * 60}
    )


# --- the client's address ------------------------------------------------------------------
@functools.cache
def _trusted(proxies: tuple[str, ...]) -> tuple:
    networks = []
    for entry in proxies:
        entry = entry.strip()
        if entry:
            networks.append(ipaddress.ip_network(entry, strict=False))
    return tuple(networks)


def _address(value: str):
    """An address from a forwarded hop (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``), or None."""
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the peer, or what trusted proxies say it was (see above)."""
    peer = request.META.get("REMOTE_ADDR") or None
    networks = _trusted(tuple(settings.TRUSTED_PROXIES))
    peer_address = _address(peer or "")
    if peer_address is None or not networks:
        return peer

    def trusted(address) -> bool:
        return any(address in network for network in networks)

    if not trusted(peer_address):
        return peer
    client = peer_address
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # junk where an address belongs: stop at the last proxy we trust
        client = address
        if not trusted(address):
            break
    return str(client)


# --- counting and refusing -----------------------------------------------------------------
def is_locked_out(request: HttpRequest, username: str) -> bool:
    """True if the account or the client's address may not try now."""
    return not AxesProxyHandler.is_allowed(request, {"username": username})


def record_failure(request: HttpRequest, username: str) -> bool:
    """Count a failed step (e.g. a wrong two-step code) like a wrong password.

    Returns True if this failure locked the account or the address out.
    """
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    return bool(getattr(request, "axes_locked_out", False))


def forget_failures(username: str) -> None:
    """A complete log-in clears its account's failures (never its address's)."""
    AxesProxyHandler.reset_attempts(username=username)


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """What django-axes answers a locked-out attempt: the API's error shape or a page."""
    error = locked_out_error()
    retry_after = str(error.details["retry_after_seconds"])
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error.as_body(), status=error.status)
    else:
        response = render(request, "console/locked_out.html", {"error": error}, status=error.status)
    response["Retry-After"] = retry_after
    return response
