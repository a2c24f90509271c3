"""A line of an exercise crisis is an exercise line (its traffic is drill traffic), set when
the line is opened and never changed: the database refuses it."""

from django.db import migrations, models

from core.db import frozen_column


class Migration(migrations.Migration):
    dependencies = [
        ("hotline", "0005_message_tlp_marking"),
    ]

    operations = [
        migrations.AddField(
            model_name="hotlinechannel",
            name="exercise",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text=(
                    "A room of an exercise crisis: all its traffic is drill traffic. "
                    "Never changed."
                ),
            ),
        ),
        frozen_column(
            "hotline_hotlinechannel",
            "exercise",
            "hotline_channel_exercise_never_changes",
            "a line's exercise flag",
        ),
    ]
