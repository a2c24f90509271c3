"""Pages: page a desk's people on duty, and stop when anyone acknowledges.

- :func:`page_desk` — one page per (desk, subject key), idempotent; each person on duty
  (``rosters.selectors.on_duty``) gets delivery attempts per their notification rules.
- :func:`acknowledge_by_link` — a person acknowledges with their single-use link; the
  page kind's ack handler (registered by the layer above, e.g. crisis) acts first.
- :func:`acknowledge_by_reply` — the same, from an SMS reply carrying the page's reply
  code (the provider's inbound webhook);
- :func:`resolve_pages` — the layer above says the subject is acknowledged (or moved
  on): every open page of it stops paging, in the caller's transaction.
- :func:`page_incoming_officers` — a shift changes while a page waits: the people who
  came on duty are paged too (a deadline at the roster's next change, ``OnDuty.until``).

Lock order: whatever the ack handler locks (the crisis row) → pages → attempts →
their deadlines. Acknowledgements in the crisis console take the crisis row first too.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import access_for
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from deadlines.services import cancel_deadlines, register_handler, schedule_deadline
from directory.models import WRITING_ROLES, Desk, DeskMembership
from paging.links import LinkExpired, link_expires_at, recipient_for_token
from paging.models import (
    ContactKind,
    ContactMethod,
    DeskWebhook,
    Page,
    PageRecipient,
    PageState,
    Urgency,
)
from paging.rules import release_at, rules_for
from paging.services.delivery import (
    cancel_attempts,
    queue_attempt,
    queue_webhook_event,
    verified_methods,
)
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
    exercise: bool = False,
    people=None,
) -> Page:
    """Page the people on duty at ``desk`` about ``subject_key`` (or, with ``people``,
    those people of the desk only, whoever is on duty: a reminder to a task's assignee).

    ``exercise``: the page is drill traffic (about an exercise crisis or line): every
    message of it starts "EXERCISE EXERCISE EXERCISE" and its webhooks say
    ``"exercise": true``.

    Idempotent per (desk, subject key): a second call returns the first page. Runs in the
    caller's transaction (one of its own otherwise); deliveries are deadlines armed in it,
    so a rolled-back action pages nobody.
    """
    if urgency not in Urgency.values:
        raise InvalidInput(
            _("Unknown urgency %(urgency)s.") % {"urgency": repr(urgency)},
            code="unknown_urgency",
            details={"known": list(Urgency.values)},
        )
    with transaction.atomic():
        existing = Page.objects.filter(desk=desk, subject_key=subject_key).first()
        if existing is not None:
            return existing
        duty = on_duty(desk)
        chosen = list(people) if people is not None else duty.people
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
                    exercise=bool(exercise),
                    payload={
                        **(payload or {}),
                        "on_duty_fallback": duty.is_fallback,
                        "on_duty": [p.get_username() for p in duty.people],
                        **({"people": [p.get_username() for p in chosen]} if people else {}),
                    },
                )
        except IntegrityError:  # paged concurrently: theirs stands
            return Page.objects.get(desk=desk, subject_key=subject_key)
        _page_people(page, chosen)
        if people is None:  # a page to named people does not follow the duty
            _watch_duty(page, duty.until)
        _post_to_webhooks(page, "page.opened")
    return page


def page_desks(requests: list[dict]) -> list[Page]:
    """:func:`page_desk` for many ``(desk, subject key)`` at once, each ``request`` its
    keyword arguments (``people`` excepted): the same pages, recipients, attempts, duty
    watches and webhook events, with a constant number of queries for the pages
    themselves (one read of those that exist, the duty once per desk, one read of the
    desks' webhooks, one insert). Paging each person on duty still costs their own reads
    and writes. Runs in the caller's transaction; a request whose page exists is skipped.
    The caller must hold what serialises paging of these subjects (the crisis row locks):
    a page inserted concurrently fails the whole call rather than being taken over.
    """
    for request in requests:
        if request["urgency"] not in Urgency.values:
            raise InvalidInput(
                _("Unknown urgency %(urgency)s.") % {"urgency": repr(request["urgency"])},
                code="unknown_urgency",
                details={"known": list(Urgency.values)},
            )
    if not requests:
        return []
    with transaction.atomic(savepoint=False):
        existing = set(
            Page.objects.filter(
                desk_id__in={r["desk"].pk for r in requests},
                subject_key__in={r["subject_key"] for r in requests},
            ).values_list("desk_id", "subject_key")
        )
        fresh, seen = [], set()
        for request in requests:
            key = (request["desk"].pk, request["subject_key"])
            if key not in existing and key not in seen:
                seen.add(key)
                fresh.append(request)
        duties = {}
        for request in fresh:
            desk = request["desk"]
            if desk.pk not in duties:
                duties[desk.pk] = on_duty(desk)
        hooks_of: dict[int, list[DeskWebhook]] = {}
        for hook in DeskWebhook.objects.filter(desk_id__in=duties).order_by("pk"):
            hooks_of.setdefault(hook.desk_id, []).append(hook)
        pages = Page.objects.bulk_create(
            [
                Page(
                    desk=r["desk"],
                    urgency=r["urgency"],
                    kind=r["kind"],
                    subject_key=r["subject_key"],
                    title=r["title"][:300],
                    body=r["body"],
                    link_path=r.get("link_path", ""),
                    exercise=bool(r.get("exercise", False)),
                    payload={
                        **(r.get("payload") or {}),
                        "on_duty_fallback": duties[r["desk"].pk].is_fallback,
                        "on_duty": [p.get_username() for p in duties[r["desk"].pk].people],
                    },
                )
                for r in fresh
            ]
        )
        for page in pages:
            duty = duties[page.desk_id]
            if duty.people:
                _page_people(page, list(duty.people))
            _watch_duty(page, duty.until)
            hooks = [h for h in hooks_of.get(page.desk_id, ()) if h.wants(page.urgency)]
            if hooks:
                data = _page_event_data(page)
                for hook in hooks:
                    queue_webhook_event(page=page, webhook=hook, event="page.opened", data=data)
    return pages


def _page_people(page: Page, people) -> None:
    """Each of ``people`` becomes a recipient of ``page`` with attempts per their rules."""
    desk, urgency = page.desk, page.urgency
    roles = dict(
        DeskMembership.objects.filter(desk=desk, user__in=people).values_list("user_id", "role")
    )
    now = timezone.now()
    for person in people:
        recipient = PageRecipient.objects.create(
            page=page, user=person, reply_code=_new_reply_code(person)
        )
        start = max(release_at(person, desk=desk, urgency=urgency, at=now), now)
        rules = rules_for(person, role=roles.get(person.pk), urgency=urgency)
        for method, delay in _steps(rules, verified_methods(person)):
            queue_attempt(
                recipient=recipient,
                method=method,
                due_at=start + timedelta(seconds=delay),
                delay_seconds=delay,
            )


# --- a shift changes while a page waits ----------------------------------------------------
#: Fires when the answer to "who is on duty at this desk" next changes (the roster's
#: ``OnDuty.until``) while a page is open: whoever came on duty is paged too.
DUTY_CHANGE_KIND = "paging.duty_change"


def _duty_subject(page: Page) -> str:
    return f"page:{page.pk}:duty"


def _watch_duty(page: Page, until) -> None:
    if until is not None:
        schedule_deadline(
            kind=DUTY_CHANGE_KIND,
            subject_key=_duty_subject(page),
            due_at=until,
            payload={"page_id": page.pk},
        )


@register_handler(DUTY_CHANGE_KIND)
def page_incoming_officers(deadline) -> None:
    """The duty changed while the page waits: page the people now on duty who were not
    paged yet (the outgoing officer keeps their own attempts until someone acknowledges),
    and watch for the next change. Runs once per change (the deadline engine); a page no
    longer open is left alone."""
    page = (
        Page.objects.select_for_update()
        .select_related("desk")
        .filter(pk=deadline.payload.get("page_id"), state=PageState.OPEN)
        .first()
    )
    if page is None:
        return
    duty = on_duty(page.desk)
    paged = set(page.recipients.values_list("user_id", flat=True))
    _page_people(page, [person for person in duty.people if person.pk not in paged])
    _watch_duty(page, duty.until)


def _steps(rules, methods) -> list[tuple]:
    """(method, delay) per rule whose kind the person has a verified method of; a rule of
    a kind they lack is skipped (the role default "SMS now, voice after 2 min" means
    nothing to someone with only e-mail). If no rule matches, their first method at the
    first rule's delay; without any method, one failed attempt: nobody is left out."""
    steps = []
    for rule in rules:
        method = next((m for m in methods if m.kind == rule.kind), None)
        if method is not None and (method, rule.delay_seconds) not in steps:
            steps.append((method, rule.delay_seconds))
    if not steps:
        first_delay = rules[0].delay_seconds if rules else 0
        steps.append((methods[0] if methods else None, first_delay))
    return steps


REPLY_CODE_DIGITS = 4


def _new_reply_code(person) -> str:
    """A code not used by ``person``'s other open pages (so a reply names one page)."""
    taken = set(
        PageRecipient.objects.filter(user=person, page__state=PageState.OPEN).values_list(
            "reply_code", flat=True
        )
    )
    while True:
        code = f"{secrets.randbelow(10**REPLY_CODE_DIGITS):0{REPLY_CODE_DIGITS}d}"
        if code not in taken:
            return code


def _page_event_data(page: Page) -> dict:
    base = settings.PAGING_BASE_URL.rstrip("/")
    return {
        "page_id": page.pk,
        "desk": page.desk.code,
        "urgency": page.urgency,
        "kind": page.kind,
        "subject_key": page.subject_key,
        "title": page.title,
        "body": page.body,
        "link": base + page.link_path if page.link_path else "",
        "state": page.state,
        "created_at": page.created_at.isoformat(),
        "acknowledged_at": page.acknowledged_at.isoformat() if page.acknowledged_at else None,
        "acknowledged_by": page.acknowledged_by.get_username() if page.acknowledged_by else None,
        "closed_reason": page.closed_reason,
        "exercise": page.exercise,
    }


def _post_to_webhooks(page: Page, event: str) -> None:
    """Queue ``event`` for each active webhook of the page's desk that wants its urgency."""
    hooks = [h for h in DeskWebhook.objects.filter(desk_id=page.desk_id) if h.wants(page.urgency)]
    if not hooks:
        return
    data = _page_event_data(page)
    for hook in hooks:
        queue_webhook_event(page=page, webhook=hook, event=event, data=data)


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
        raise InvalidInput(_("Say which pages to resolve."), code="invalid")
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
        for page in pages:
            cancel_deadlines(kind=DUTY_CHANGE_KIND, subject_key=_duty_subject(page))
        for page in pages:
            _post_to_webhooks(page, f"page.{page.state}")
        return len(pages)


def check_link(recipient: PageRecipient) -> None:
    """Refuse a link that was used, whose page no longer waits, or whose person has left
    the desk (or may no longer act for it)."""
    page = recipient.page
    if recipient.link_used_at is not None:
        raise Conflict(
            _("This acknowledgement link was already used."),
            code="link_used",
            details={"used_at": recipient.link_used_at.isoformat()},
        )
    _require_open(page)
    on_desk = DeskMembership.objects.filter(
        user=recipient.user,
        desk=page.desk,
        desk__is_active=True,
        role__in=WRITING_ROLES,
        user__is_active=True,
    ).exists()
    if not on_desk:
        raise PermissionDenied(
            _("%(user)s no longer acts for %(page_desk_code)s.")
            % {"user": recipient.user.get_username(), "page_desk_code": page.desk.code},
            code="not_on_desk",
        )


def _require_open(page: Page) -> None:
    if not page.is_open:
        raise Conflict(
            _("This page no longer waits for an acknowledgement (%(reason)s).")
            % {"reason": page.closed_reason or page.get_state_display().lower()},
            code="page_not_open",
            details={"state": page.state},
        )


def acknowledge_by_link(*, token: str) -> Page:
    """Acknowledge the page a link names, as the person it was sent to.

    One transaction: the kind's ack handler acts (e.g. the crisis level is acknowledged),
    the link is spent, this page is acknowledged, and every other page of the same subject
    stops paging. Refused: invalid (400), expired (410), used or page over (409), person
    no longer on the desk (403).
    """
    recipient = recipient_for_token(token, now=timezone.now())
    return _acknowledge_as_recipient(recipient)


def _acknowledge_as_recipient(recipient: PageRecipient) -> Page:
    """What the link and the SMS reply both do, in one transaction."""
    with transaction.atomic():
        check_link(recipient)
        page, user = recipient.page, recipient.user
        _run_ack_handler(page, user)
        spent = PageRecipient.objects.filter(pk=recipient.pk, link_used_at__isnull=True).update(
            link_used_at=timezone.now()
        )
        if not spent:  # a concurrent use won
            raise Conflict(_("This acknowledgement link was already used."), code="link_used")
        _mark_acknowledged(page, user)
    return page


_REPLY_CODE = re.compile(rf"(?<!\d)(\d{{{REPLY_CODE_DIGITS}}})(?!\d)")


def acknowledge_by_reply(*, from_number: str, body: str) -> Page:
    """Acknowledge the page whose reply code an SMS from ``from_number`` carries, as the
    person whose verified SMS number that is (the provider's inbound webhook calls this
    once the request's signature is checked).

    Same checks and effects as :func:`acknowledge_by_link`: the page kind's handler acts,
    this page is acknowledged and everyone else stops being paged for it, at once.
    Refused: no code in the text, or none of that number's pages has it (400 / 404), the
    page no longer waits (409, harmless: a reply after someone acknowledged), the person
    no longer on the desk (403), past the link's lifetime (410).
    """
    match = _REPLY_CODE.search(body or "")
    if match is None:
        raise InvalidInput(
            _("Reply with the %(reply_code_digits)s-digit code from the page to acknowledge it.")
            % {"reply_code_digits": REPLY_CODE_DIGITS},
            code="no_reply_code",
        )
    people = ContactMethod.objects.filter(
        kind=ContactKind.SMS, address=from_number, verified_at__isnull=False
    ).values("user_id")
    recipient = (
        PageRecipient.objects.select_related("page", "page__desk", "user")
        .filter(user__in=people, reply_code=match.group(1))
        .order_by("-page__created_at", "-pk")
        .first()
    )
    if recipient is None:
        raise NotFound(
            _("No page for this number has the code %(code)s.") % {"code": match.group(1)}
        )
    _require_open(recipient.page)
    if timezone.now() >= link_expires_at(recipient):
        raise LinkExpired(_("This page can no longer be acknowledged by reply."))
    return _acknowledge_as_recipient(recipient)


def acknowledge_page(*, by, page: Page | int) -> Page:
    """A signed-in writing member of the page's desk acknowledges it (API). Same effects
    as the link; 404 if the caller is not on the desk, 409 if it no longer waits."""
    page_id = page if isinstance(page, int) else page.pk
    with transaction.atomic():
        page = Page.objects.select_related("desk").filter(pk=page_id).first()
        if page is None:
            raise NotFound(_("No such page."))
        access_for(by).require_act_for(page.desk)
        _require_open(page)
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
