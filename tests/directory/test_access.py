import pytest

from core.errors import NotFound, PermissionDenied
from directory.access import access_for
from directory.models import Role
from tests.factories import make_desk, make_person

pytestmark = pytest.mark.django_db


def test_operator_of_a_is_not_a_member_of_b(region):
    access = access_for(region.operator_a)
    assert access.is_member_of(region.desk_a)
    assert not access.is_member_of(region.desk_b)
    assert access.can_act_for(region.desk_a)
    assert not access.can_act_for(region.desk_b)
    assert access.can_see_state(region.state_a.pk)
    assert not access.can_see_state(region.state_b.pk)
    assert not access.sees_all_states
    with pytest.raises(NotFound):
        access.require_act_for(region.desk_b)


def test_auditor_reads_everything_and_writes_nothing(region):
    access = access_for(region.auditor)
    assert access.sees_all_states
    assert access.can_see_state(region.state_b.pk)
    assert not access.can_write
    assert not access.can_act_for(region.centre)
    with pytest.raises(PermissionDenied) as exc:
        access.require_act_for(region.centre)
    assert exc.value.details["role"] == Role.AUDITOR


def test_coordinator_sees_all_states_and_acts_for_the_centre(region):
    access = access_for(region.coordinator)
    assert access.sees_all_states and access.is_coordinator
    assert access.can_act_for(region.centre)
    assert not access.can_act_for(region.desk_a)


def test_supervisor_only_action_refuses_an_operator(region):
    supervisors = frozenset({Role.SUPERVISOR})
    access_for(region.supervisor_a).require_act_for(region.desk_a, roles=supervisors)
    with pytest.raises(PermissionDenied):
        access_for(region.operator_a).require_act_for(region.desk_a, roles=supervisors)


def test_person_on_two_desks_acts_for_both(region):
    second = make_desk(region.state_a, code="AAA-2")
    person = make_person(region.desk_a, Role.OPERATOR)
    person.desk_memberships.create(desk=second, role=Role.SUPERVISOR)
    access = access_for(person)
    assert {d.code for d in access.writing_desks()} == {"AAA-DESK", "AAA-2"}
    assert access.role_on(second) == Role.SUPERVISOR


def test_inactive_desk_gives_no_access(region):
    region.desk_a.is_active = False
    region.desk_a.save()
    region.operator_a.refresh_from_db()
    assert not access_for(region.operator_a).is_member_of(region.desk_a)


def test_anonymous_has_no_access():
    from django.contrib.auth.models import AnonymousUser

    access = access_for(AnonymousUser())
    assert not access.is_authenticated and not access.can_write and not access.sees_all_states


def test_acting_desk_named_default_and_read_only(region):
    operator = access_for(region.operator_a)
    assert operator.acting_desk() == region.desk_a
    assert operator.acting_desk(" aaa-desk ") == region.desk_a
    with pytest.raises(NotFound):
        operator.acting_desk("BBB-DESK")
    with pytest.raises(PermissionDenied) as exc:
        access_for(region.auditor).acting_desk()
    assert exc.value.code == "read_only"
