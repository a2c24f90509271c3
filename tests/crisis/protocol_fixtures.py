"""Protocol authors, drafts and published versions for the protocol tests."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from crisis.services import protocols as services
from directory.models import Role
from tests.factories import make_person


def make_author(desk=None, *, username: str = "author", staff: bool = True):
    user = make_person(desk, Role.COORDINATOR, username=username, is_staff=staff)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="crisis", codename="author_protocol")
    )
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def ladder(*desk_ids) -> list[dict]:
    return [
        {
            "order": 1,
            "name": "Affected operators",
            "timeout_seconds": 600,
            "notify_scopes": ["affected"],
            "notify_roles": ["operator"],
            "notify_desk_ids": [],
            "actions": ["alert_regional_centre"],
        },
        {
            "order": 2,
            "name": "Affected supervisors",
            "timeout_seconds": 900,
            "notify_scopes": ["affected"],
            "notify_roles": ["supervisor"],
            "notify_desk_ids": list(desk_ids),
            "actions": ["open_crisis_room"],
        },
        {
            "order": 3,
            "name": "Coordinator and all states",
            "timeout_seconds": 1800,
            "notify_scopes": ["regional", "all_states"],
            "notify_roles": ["coordinator", "supervisor"],
            "notify_desk_ids": [],
            "actions": ["notify_all_states", "request_assistance"],
        },
    ]


CHECKLIST = [
    {
        "order": 1,
        "party_role": "affected",
        "title": "Send the initial report to the regional centre",
        "description": "SASOP Form 1",
        "due_after_minutes": 30,
    },
    {
        "order": 2,
        "party_role": "all",
        "title": "Post a situation update",
        "description": "",
        "due_after_minutes": 360,
    },
]


def make_draft(
    author, *, name="Maritime incident", category="maritime", levels=None, checklist=None, **fields
):
    content = {
        "levels": ladder() if levels is None else levels,
        "checklist": CHECKLIST if checklist is None else checklist,
        "repeat_last_level": True,
        "max_repeats": 2,
        **fields,
    }
    _, draft = services.create_protocol(by=author, name=name, category=category, content=content)
    return draft


def make_published(author, **kwargs):
    return services.publish_version(by=author, version=make_draft(author, **kwargs))
