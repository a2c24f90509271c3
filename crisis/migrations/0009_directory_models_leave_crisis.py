"""The directory's models leave the crisis app's record (the directory app has them now).

Their content types (and so permissions granted on them) follow to the new app labels."""

from django.db import migrations

MOVED = {
    "directory": ["memberstate", "desk", "deskmembership"],
    "deadlines": ["deadline", "deadlineprobe", "sweepheartbeat"],
}


def _relabel(apps, source: str | None, target: str | None):
    content_type = apps.get_model("contenttypes", "ContentType")
    for app_label, models in MOVED.items():
        old, new = source or app_label, target or app_label
        for model in models:
            if content_type.objects.filter(app_label=new, model=model).exists():
                continue  # already there (e.g. made by a post-migrate run): keep it
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor):
    _relabel(apps, "crisis", None)


def move_content_types_back(apps, schema_editor):
    _relabel(apps, None, "crisis")


class Migration(migrations.Migration):

    dependencies = [
        ('deadlines', '0001_deadlines_from_crisis'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('crisis', '0008_point_at_directory_drop_deadlines'),
        ('hotline', '0002_desks_from_directory'),
        ('humanitarian', '0002_desks_from_directory'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (same names): only Django's record moves.
            state_operations=[
                migrations.DeleteModel(
                    name='MemberState',
                ),
                migrations.DeleteModel(
                    name='Desk',
                ),
                migrations.DeleteModel(
                    name='DeskMembership',
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
