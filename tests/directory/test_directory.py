import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from directory.models import Desk, DeskKind, DeskMembership, MemberState, Role
from tests.factories import make_desk, make_person, make_state

pytestmark = pytest.mark.django_db


def test_state_code_must_be_iso3_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberState.objects.create(code="th", name="Lowercase")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberState.objects.create(code="T1A", name="Digit")


def test_state_code_validator_explains_itself():
    with pytest.raises(ValidationError) as exc:
        MemberState(code="T1A", name="Bad").full_clean()
    assert "ISO 3166-1 alpha-3" in str(exc.value)


def test_state_code_and_name_are_unique():
    make_state("THA", "Thailand")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberState.objects.create(code="THA", name="Thailand again")


def test_national_desk_needs_a_state_and_regional_desk_has_none():
    state = make_state("THA", "Thailand")
    with pytest.raises(IntegrityError), transaction.atomic():
        Desk.objects.create(code="X", name="No state", kind=DeskKind.NATIONAL, state=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Desk.objects.create(code="Y", name="Centre", kind=DeskKind.REGIONAL, state=state)


def test_desk_time_zone_must_be_iana():
    desk = Desk(code="Z", name="Z", kind=DeskKind.REGIONAL, time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as exc:
        desk.full_clean()
    assert "time zone" in str(exc.value)


def test_one_role_per_person_per_desk():
    desk = make_desk(make_state("THA"))
    person = make_person(desk, Role.OPERATOR)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeskMembership.objects.create(user=person, desk=desk, role=Role.SUPERVISOR)


def test_coordinator_role_only_at_the_regional_centre():
    desk = make_desk(make_state("THA"))
    person = make_person(None)
    with pytest.raises(ValidationError) as exc:
        DeskMembership(user=person, desk=desk, role=Role.COORDINATOR).full_clean()
    assert "regional coordination centre" in str(exc.value)
