"""A shift boundary while a page waits: the officer who comes on duty is paged too, once;
an acknowledgement before the boundary pages nobody new."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deadlines.models import Deadline, DeadlineState
from deadlines.services import fire_due_deadlines
from paging.services import page_desk
from paging.services.pages import DUTY_CHANGE_KIND, resolve_pages
from rosters import services as rosters
from rosters.models import Shift
from rosters.selectors import on_duty
from tests.paging.conftest import verified_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def fire(django_capture_on_commit_callbacks):
    def fire():
        with django_capture_on_commit_callbacks(execute=True):
            return fire_due_deadlines()

    return fire


def shift(region, person, *, starts_in: timedelta, minutes: int) -> None:
    """A one-off shift at desk A, starting ``starts_in`` from now (desk's wall clock)."""
    desk = region.desk_a
    local_start = (timezone.now() + starts_in).astimezone(desk.zone).replace(tzinfo=None)
    roster, _ = rosters.open_roster(by=region.coordinator, desk=desk)
    rosters.add_shift(
        by=region.coordinator,
        roster=roster,
        person=person,
        starts_local=local_start.replace(second=0, microsecond=0),
        duration_minutes=minutes,
    )


@pytest.fixture
def handover(region):
    """Desk A: the operator on duty now for another hour, then the supervisor."""
    Shift.objects.filter(roster__desk=region.desk_a).delete()
    verified_email(region.operator_a)
    verified_email(region.supervisor_a)
    shift(region, region.operator_a, starts_in=timedelta(hours=-1), minutes=120)
    shift(region, region.supervisor_a, starts_in=timedelta(hours=1), minutes=120)
    return on_duty(region.desk_a)


def page(region):
    return page_desk(
        desk=region.desk_a,
        urgency="escalation",
        kind="test",
        subject_key="t:shift",
        title="Test page",
        body="Something needs you.",
    )


def watch(p) -> Deadline:
    """The page's latest duty watch (each change fires one and arms the next)."""
    return Deadline.objects.filter(kind=DUTY_CHANGE_KIND, subject_key=f"page:{p.pk}:duty").latest(
        "pk"
    )


def the_boundary_passes(region, p) -> None:
    """What an hour does: the operator's shift is over, the supervisor's has begun, and
    the watch is due."""
    Shift.objects.filter(roster__desk=region.desk_a).delete()
    shift(region, region.supervisor_a, starts_in=timedelta(minutes=-1), minutes=120)
    Deadline.objects.filter(pk=watch(p).pk).update(due_at=timezone.now())


def test_the_officer_coming_on_duty_is_paged_once(region, handover, smtp, fire):
    assert [u.username for u in handover.people] == [region.operator_a.username]
    p = page(region)
    assert set(p.recipients.values_list("user__username", flat=True)) == {"op-a"}
    # Watched from the roster's next change: the end of the operator's shift.
    assert watch(p).due_at == handover.until and watch(p).state == DeadlineState.PENDING
    fire()
    assert [m.to for m in smtp.inbox.messages] == [["op-a@example.org"]]

    the_boundary_passes(region, p)
    fire()
    fire()  # the supervisor's attempt, armed by the handover
    paged = sorted(p.recipients.values_list("user__username", flat=True))
    assert paged == ["op-a", "sup-a"]
    assert sorted(a for m in smtp.inbox.messages for a in m.to) == [
        "op-a@example.org",
        "sup-a@example.org",
    ]
    # The next change (the end of the supervisor's shift) is watched in turn; firing
    # again pages nobody twice.
    assert watch(p).state == DeadlineState.PENDING and watch(p).due_at > timezone.now()
    Deadline.objects.filter(pk=watch(p).pk).update(due_at=timezone.now())
    fire()
    assert p.recipients.count() == 2 and smtp.inbox.count() == 2


def test_an_acknowledged_page_pages_nobody_at_the_boundary(region, handover, smtp, fire):
    p = page(region)
    fire()
    resolve_pages(subject_key="t:shift", reason="acknowledged", by=region.operator_a,
                  desk=region.desk_a)  # fmt: skip
    assert not Deadline.objects.filter(kind=DUTY_CHANGE_KIND, state=DeadlineState.PENDING)
    Shift.objects.filter(roster__desk=region.desk_a).delete()
    shift(region, region.supervisor_a, starts_in=timedelta(minutes=-1), minutes=120)
    fire()
    assert list(p.recipients.values_list("user__username", flat=True)) == ["op-a"]
    assert smtp.inbox.count() == 1
