"""Flash messages the desk has not acknowledged yet: on every console page until it does."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.console.shell import AttentionItem
from hotline.models import Message, Priority, Receipt
from hotline.selectors import current_members, message_marking_q

#: Older flash messages have long escalated to supervisors and the coordinator.
WINDOW = timedelta(days=7)
SHOWN = 10


def unacknowledged_flash(access, desk) -> list[AttentionItem]:
    messages = (
        Message.objects.filter(
            priority=Priority.FLASH,
            created_at__gte=timezone.now() - WINDOW,
            channel__in=current_members().filter(desk=desk).values("channel_id"),
        )
        .exclude(sender_desk=desk)
        .exclude(sender_desk__isnull=True)
        .filter(message_marking_q(access))
        .exclude(
            Exists(
                Receipt.objects.filter(
                    message=OuterRef("pk"), desk=desk, acknowledged_at__isnull=False
                )
            )
        )
        .select_related("channel", "sender_desk")
        .order_by("-created_at")[:SHOWN]
    )
    return [
        AttentionItem(
            key=f"message:{m.pk}",
            text=_("Flash message from %(desk)s on %(line)s") % {
                "desk": m.sender_desk.code, "line": m.channel.name
            },
            link=reverse("console:line", kwargs={"pk": m.channel_id}) + f"#msg-{m.seq}",
            action=_("acknowledge it"),
        )
        for m in messages
    ]  # fmt: skip
