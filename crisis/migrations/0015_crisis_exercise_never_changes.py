"""The database refuses to change a crisis's ``exercise`` flag once written: a drill stays
a drill and a real crisis stays real, whatever path writes the row."""

from django.db import migrations

from core.db import frozen_column


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0014_crisis_exercise"),
    ]

    operations = [
        frozen_column(
            "crisis_crisis",
            "exercise",
            "crisis_exercise_never_changes",
            "a crisis's exercise flag",
        ),
    ]
