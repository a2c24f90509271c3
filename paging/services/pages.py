"""Pages: page a desk's people on duty, and stop when anyone acknowledges.

- :func:`page_desk` — one page per (desk, subject key), idempotent; each person on duty
  (``rosters.selectors.on_duty``) gets delivery attempts per their notification rules.
- :func:`acknowledge_by_link` — a person acknowledges with their single-use link; the
  page kind's ack handler (registered by the layer above, e.g. crisis) acts first.
- :func:`resolve_pages` — the layer above says the subject is acknowledged (or moved
  on): every open page of it stops paging, in the caller's transaction.

Lock order: whatever the ack handler locks (the crisis row) → pages → attempts →
their deadlines. Acknowledgements in the crisis console take the crisis row first too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.access import access_for
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from directory.models import WRITING_ROLES, Desk, DeskMembership
from paging.links import recipient_for_token
from paging.models import Page, PageRecipient, PageState, Urgency
from paging.rules import release_at, rules_for
from paging.services.delivery import cancel_attempts, queue_attempt, verified_methods
from rosters.selectors import on_duty

AckHandler = Callable[..., None]

#: page kind -> ``handler(*, page, by)``, run inside the acknowledging transaction.
ACK_HANDLERS: dict[str, AckHandler] = {}


def register_ack_handler(kind: str, handler: AckHandler) -> AckHandler:
    """Have ``handler(*, page, by)`` act when a page of ``kind`` is acknowledged by link.

    It runs first inside the acknowledging transaction and may raise a domain error to
    refuse (nothing is then recorded). It is expected to end the subject's paging through
    :func:`resolve_pages` (the acknowledging page is marked acknowledged either way).
    """
    ACK_HANDLERS[kind] = handler
    return handler


def page_desk(
    *,
    desk: Desk,
    urgency: str,
    kind: str,
    subject_key: str,
    title: str,
    body: str,
    link_path: str = "",
    payload: dict | None = None,
) -> Page:
    """Page the people on duty at ``desk`` about ``subject_key``.

    Idempotent per (desk, subject key): a second call returns the first page. Runs in the
    caller's transaction (one of its own otherwise); deliveries are deadlines armed in it,
    so a rolled-back action pages nobody.
    """
    if urgency not in Urgency.values:
        raise InvalidInput(
            f"Unknown urgency {urgency!r}.",
            code="unknown_urgency",
            details={"known": list(Urgency.values)},
        )
    with transaction.atomic():
        existing = Page.objects.filter(desk=desk, subject_key=subject_key).first()
        if existing is not None:
            return existing
        duty = on_duty(desk)
        try:
            with transaction.atomic():
                page = Page.objects.create(
                    desk=desk,
                    urgency=urgency,
                    kind=kind,
                    subject_key=subject_key,
                    title=title[:300],
                    body=body,
                    link_path=link_path,
                    payload={
                        **(payload or {}),
                        "on_duty_fallback": duty.is_fallback,
                        "on_duty": [p.get_username() for p in duty.people],
                    },
                )
        except IntegrityError:  # paged concurrently: theirs stands
            return Page.objects.get(desk=desk, subject_key=subject_key)
        roles = dict(
            DeskMembership.objects.filter(desk=desk, user__in=duty.people).values_list(
                "user_id", "role"
            )
        )
        now = timezone.now()
        for person in duty.people:
            recipient = PageRecipient.objects.create(page=page, user=person)
            methods = verified_methods(person)
            start = release_at(person, desk=desk, urgency=urgency, at=now)
            for rule in rules_for(person, role=roles.get(person.pk), urgency=urgency):
                method = next((m for m in methods if m.kind == rule.kind), None)
                method = method or (methods[0] if methods else None)
                queue_attempt(
                    recipient=recipient,
                    method=method,
                    due_at=max(start, now) + timedelta(seconds=rule.delay_seconds),
                    delay_seconds=rule.delay_seconds,
                )
    return page


def resolve_pages(
    *,
    subject_key: str | None = None,
    subject_prefix: str | None = None,
    reason: str,
    by=None,
    desk: Desk | None = None,
) -> int:
    """Stop paging about a subject: every open page of ``subject_key`` (or whose key
    starts with ``subject_prefix``) ends, its pending attempts cancelled with their
    deadlines, in the caller's transaction. ``desk``'s page is marked acknowledged (by
    ``by``); the others closed with ``reason``. Idempotent; returns how many ended."""
    if not subject_key and not subject_prefix:
        raise InvalidInput("Say which pages to resolve.", code="invalid")
    with transaction.atomic(savepoint=False):
        pages = Page.objects.select_for_update().filter(state=PageState.OPEN)
        if subject_key:
            pages = pages.filter(subject_key=subject_key)
        else:
            pages = pages.filter(subject_key__startswith=subject_prefix)
        pages = list(pages.order_by("pk"))
        if not pages:
            return 0
        now = timezone.now()
        for page in pages:
            if desk is not None and page.desk_id == desk.pk:
                page.state = PageState.ACKNOWLEDGED
                page.acknowledged_at = now
                page.acknowledged_by = by
            else:
                page.state = PageState.CLOSED
            page.closed_reason = reason[:200]
            page.save(
                update_fields=["state", "acknowledged_at", "acknowledged_by", "closed_reason"]
            )
        cancel_attempts([p.pk for p in pages])
        return len(pages)


def check_link(recipient: PageRecipient) -> None:
    """Refuse a link that was used, whose page no longer waits, or whose person has left
    the desk (or may no longer act for it)."""
    page = recipient.page
    if recipient.link_used_at is not None:
        raise Conflict(
            "This acknowledgement link was already used.",
            code="link_used",
            details={"used_at": recipient.link_used_at.isoformat()},
        )
    if not page.is_open:
        raise Conflict(
            "This page no longer waits for an acknowledgement "
            f"({page.closed_reason or page.get_state_display().lower()}).",
            code="page_not_open",
            details={"state": page.state},
        )
    on_desk = DeskMembership.objects.filter(
        user=recipient.user,
        desk=page.desk,
        desk__is_active=True,
        role__in=WRITING_ROLES,
        user__is_active=True,
    ).exists()
    if not on_desk:
        raise PermissionDenied(
            f"{recipient.user.get_username()} no longer acts for {page.desk.code}.",
            code="not_on_desk",
        )


def acknowledge_by_link(*, token: str) -> Page:
    """Acknowledge the page a link names, as the person it was sent to.

    One transaction: the kind's ack handler acts (e.g. the crisis level is acknowledged),
    the link is spent, this page is acknowledged, and every other page of the same subject
    stops paging. Refused: invalid (400), expired (410), used or page over (409), person
    no longer on the desk (403).
    """
    recipient = recipient_for_token(token, now=timezone.now())
    with transaction.atomic():
        check_link(recipient)
        page, user = recipient.page, recipient.user
        _run_ack_handler(page, user)
        spent = PageRecipient.objects.filter(pk=recipient.pk, link_used_at__isnull=True).update(
            link_used_at=timezone.now()
        )
        if not spent:  # a concurrent use won
            raise Conflict("This acknowledgement link was already used.", code="link_used")
        _mark_acknowledged(page, user)
    return page


def acknowledge_page(*, by, page: Page | int) -> Page:
    """A signed-in writing member of the page's desk acknowledges it (API). Same effects
    as the link; 404 if the caller is not on the desk, 409 if it no longer waits."""
    page_id = page if isinstance(page, int) else page.pk
    with transaction.atomic():
        page = Page.objects.select_related("desk").filter(pk=page_id).first()
        if page is None:
            raise NotFound("No such page.")
        access_for(by).require_act_for(page.desk)
        if not page.is_open:
            raise Conflict(
                "This page no longer waits for an acknowledgement "
                f"({page.closed_reason or page.get_state_display().lower()}).",
                code="page_not_open",
                details={"state": page.state},
            )
        _run_ack_handler(page, by)
        _mark_acknowledged(page, by)
    return page


def _run_ack_handler(page: Page, user) -> None:
    handler = ACK_HANDLERS.get(page.kind)
    if handler is not None:
        handler(page=page, by=user)


def _mark_acknowledged(page: Page, user) -> None:
    """After the handler: this page acknowledged by ``user``, the subject's others closed."""
    resolve_pages(
        subject_key=page.subject_key,
        reason=f"acknowledged by {user.get_username()} ({page.desk.code})",
        by=user,
        desk=page.desk,
    )
    page.refresh_from_db()
    if page.state != PageState.ACKNOWLEDGED:  # the handler closed it first
        page.state = PageState.ACKNOWLEDGED
        page.acknowledged_at = timezone.now()
        page.acknowledged_by = user
        page.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
