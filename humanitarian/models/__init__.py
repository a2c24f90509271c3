from humanitarian.models.assistance import (
    COMMITTED_PLEDGE_STATUSES,
    LIVE_REQUEST_STATUSES,
    AssistanceRequest,
    Pledge,
    PledgeStatus,
    Priority,
    RequestStatus,
)
from humanitarian.models.catalogue import (
    ITEM_CHOICES,
    ITEMS,
    Item,
    Sector,
    Unit,
    items_for,
    unit_of,
)
from humanitarian.models.displacement import (
    AssessmentType,
    DisplacementReport,
    ImportJob,
    ImportStatus,
)
from humanitarian.models.edxl import ReceivedRMMessage
from humanitarian.models.reports import Reminder, ReminderKind, SituationReport
from humanitarian.models.shelters import Shelter, ShelterOccupancy, ShelterService, ShelterStatus
from humanitarian.models.standby import AssetKind, StandbyAsset

__all__ = [
    "COMMITTED_PLEDGE_STATUSES",
    "ITEMS",
    "ITEM_CHOICES",
    "LIVE_REQUEST_STATUSES",
    "AssessmentType",
    "AssetKind",
    "AssistanceRequest",
    "DisplacementReport",
    "ImportJob",
    "ImportStatus",
    "Item",
    "Pledge",
    "PledgeStatus",
    "Priority",
    "ReceivedRMMessage",
    "Reminder",
    "ReminderKind",
    "RequestStatus",
    "Sector",
    "Shelter",
    "ShelterOccupancy",
    "ShelterService",
    "ShelterStatus",
    "SituationReport",
    "StandbyAsset",
    "Unit",
    "items_for",
    "unit_of",
]
