import pytest

from crisis.models import CrisisParticipant, ParticipantRole
from crisis.selectors import crises_visible_to
from directory.access import access_for
from tests.crisis.factories import make_crisis

pytestmark = pytest.mark.django_db


def test_reporting_and_affected_states_see_it_others_do_not(region):
    crisis = make_crisis(
        region, reported_by=region.desk_a, affected=[region.state_a, region.state_b]
    )
    assert list(crises_visible_to(access_for(region.operator_a))) == [crisis]
    assert list(crises_visible_to(access_for(region.operator_b))) == [crisis]
    assert list(crises_visible_to(access_for(region.operator_c))) == []
    assert list(crises_visible_to(access_for(region.coordinator))) == [crisis]
    assert list(crises_visible_to(access_for(region.auditor))) == [crisis]


def test_participating_desk_sees_it(region):
    crisis = make_crisis(region, reported_by=region.desk_a, affected=[region.state_a])
    assert not crises_visible_to(access_for(region.operator_c)).exists()
    CrisisParticipant.objects.create(
        crisis=crisis, desk=region.desk_c, role=ParticipantRole.SUPPORTING
    )
    assert list(crises_visible_to(access_for(region.operator_c))) == [crisis]
