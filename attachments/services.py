"""Attaching a file to an item: checked, typed by content, marked, stored.

Guarantees: a file is stored only if every check passed — the caller may see the item
and act for its author's desk, the file is not empty and at most ``ATTACHMENT_MAX_BYTES``,
its *content* is one of ``attachments.content.ALLOWED`` (the name and the type the client
claims are not trusted) — and the row is written in the same transaction; if writing the
row fails, the stored file is deleted again. The marking is never wider than the item's
(a forward-like rule: an attachment takes the narrower of the two). Narrow markings keep
the item's recipients of this moment.
"""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from attachments.content import (
    ALLOWED,
    HEAD_BYTES,
    describe_allowed,
    detect,
    looks_like_markup,
)
from attachments.models import Attachment
from attachments.registry import HOSTS
from attachments.selectors import host_item
from core.access import access_for
from core.disclosure import check_marking, is_narrow
from core.errors import InvalidInput, PayloadTooLarge, PermissionDenied
from core.tlp import narrower

#: Longest file name kept (the rest is cut, keeping the extension).
MAX_FILENAME = 120


def clean_filename(name: str) -> str:
    """The uploader's file name without any path, control characters or quotes."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(c for c in base if c.isprintable() and c not in '"<>|:*?')
    base = base.strip(" .") or "attachment"
    if len(base) > MAX_FILENAME:
        stem, ext = os.path.splitext(base)
        base = stem[: MAX_FILENAME - len(ext[:16])] + ext[:16]
    return base


def attach_file(*, by, kind: str, object_id: int, upload, tlp: str | None = None) -> Attachment:
    """Attach ``upload`` (a Django ``UploadedFile``) to item ``kind``/``object_id``.

    Who: writing people of the item's author desk (the sender's desk of a message, the
    posting desk of an update, the requesting desk of a request). Refusals: 404 for an
    item the caller cannot see, 403 for one they cannot attach to, 413 ``too_large``
    over ``ATTACHMENT_MAX_BYTES``, 400 ``empty_file``, ``unsupported_type`` (the content
    is not an accepted type: HTML or SVG named ``.jpg`` is refused here) or ``bad_field``.
    """
    access = access_for(by)
    if kind not in HOSTS:
        raise InvalidInput(
            _("Attachments go on: %(items)s.") % {"items": ", ".join(sorted(HOSTS))},
            code="bad_field",
            details={"field": "kind"},
        )
    item = host_item(access, kind, object_id)
    if item.author_desk_id is None or not access.can_act_for(item.author_desk_id):
        raise PermissionDenied(
            _("Only the people of the desk that wrote it attach files to it."),
            code="not_your_item",
        )
    try:
        wanted = check_marking(tlp) if tlp else None
    except ValueError as exc:
        raise InvalidInput(str(exc), code="bad_field", details={"field": "tlp"}) from None
    marking = wanted or item.tlp or HOSTS[kind].default_tlp
    if item.tlp:
        marking = narrower(marking, item.tlp)

    limit = settings.ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise PayloadTooLarge(
            _("An attachment is at most %(limit_mb)s MB; this one is %(size_mb)s MB.")
            % {"limit_mb": limit // (1024 * 1024), "size_mb": format(size / (1024 * 1024), ".1f")},
            details={"limit_bytes": limit, "size_bytes": size},
        )
    if size == 0:
        raise InvalidInput(_("The file is empty."), code="empty_file")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    content_type = detect(head)
    if content_type is None:
        what = "a web page or markup" if looks_like_markup(head) else "not a type we take"
        raise InvalidInput(
            _("The file's content is %(what)s, whatever its name says; accepted: %(allowed)s.")
            % {"what": what, "allowed": describe_allowed()},
            code="unsupported_type",
            details={"accepted": sorted(ALLOWED)},
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)

    attachment = Attachment(
        kind=kind,
        object_id=object_id,
        filename=clean_filename(upload.name),
        content_type=content_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
        tlp=marking,
        uploaded_by=by,
        desk_id=item.author_desk_id,
    )
    attachment.file.save("upload", upload, save=False)
    try:
        with transaction.atomic():
            attachment.save(force_insert=True)
            if is_narrow(marking):
                attachment.recipient_desks.set([desk for desk, _state in item.recipients])
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
