"""Idempotency keys: a retried request does its action once and gets the first answer.

Guarantee: two requests of one caller with the same ``Idempotency-Key`` (and the same
method, path and body) do the action at most once; every one of them that completes gets
the response of the one that did it. The same key with another request is refused (422).

Mechanism: :func:`claim` inserts the key's row *inside the action's transaction*, before
the action. The unique index on (caller, key) makes a concurrent second request wait for
the first transaction: if that commits, the second finds the stored response and replays
it; if it rolls back (the action failed, the database went away), the second claims the
key and does the action itself. :func:`record` stores the answer in the same transaction,
so an action that committed always has its response to replay, and one that did not
leaves no key behind. Only successful (2xx) answers are kept: a refusal is not an action
and is decided again on a retry.

Failure cases it covers: the client timed out or lost the connection after the commit (a
retry replays), the database died mid-request (nothing committed; a retry acts), two
retries racing on two web processes (one acts, the other waits and replays).
"""

from __future__ import annotations

import hashlib
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import DomainError, InvalidInput
from idempotency.models import MAX_KEY_LENGTH, IdempotencyKey

#: Visible ASCII (what a header can carry unescaped), 1 to MAX_KEY_LENGTH characters.
_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")


class KeyReused(DomainError):
    """The key was used before for a different request (the draft's 422)."""

    status = 422
    code = "idempotency_key_reused"


def check_key(raw: str) -> str:
    """The key as given, or :class:`InvalidInput` (400) saying what a key may be."""
    key = raw.strip()
    if not _KEY.fullmatch(key):
        raise InvalidInput(
            _(
                "Idempotency-Key must be 1 to %(limit)d visible ASCII characters "
                "(a UUID is a good key)."
            )
            % {"limit": MAX_KEY_LENGTH},
            code="bad_idempotency_key",
        )
    return key


def fingerprint(*, method: str, path: str, content_type: str, body: bytes) -> str:
    """SHA-256 of the request: method, path, content type and the body's bytes."""
    digest = hashlib.sha256(f"{method.upper()} {path}\n{content_type}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def claim(*, user, key: str, method: str, path: str, request_fingerprint: str) -> IdempotencyKey:
    """Take ``key`` for this request, or return the stored row of an earlier one.

    Call inside the action's ``transaction.atomic()``. Returns the new row
    (``status_code`` None: go ahead and act, then :func:`record`) or the row of an
    earlier, committed request with this key (replay its response). Raises
    :class:`KeyReused` if that earlier request was a different one.
    """
    try:
        with transaction.atomic():  # a savepoint: a clash leaves the outer block usable
            return IdempotencyKey.objects.create(
                user=user,
                key=key,
                method=method.upper(),
                path=path,
                fingerprint=request_fingerprint,
            )
    except IntegrityError:
        # Waited on the unique index for the other request's transaction; it committed.
        stored = IdempotencyKey.objects.get(user=user, key=key)
    if stored.fingerprint != request_fingerprint:
        raise KeyReused(
            _("This Idempotency-Key was already used for a different request."),
            details={"method": stored.method, "path": stored.path},
        )
    return stored


def record(row: IdempotencyKey, *, status_code: int, body) -> None:
    """Store the answer to replay (in the action's transaction)."""
    row.status_code = status_code
    row.response = body
    row.save(update_fields=["status_code", "response"])


def release(row: IdempotencyKey) -> None:
    """The request did not act (a refusal returned, not raised): forget the key."""
    row.delete()
