"""A page of a drill says so on every message (EXERCISE EXERCISE EXERCISE), set when the
page is opened and never changed: the database refuses it."""

from django.db import migrations, models

from core.db import frozen_column


class Migration(migrations.Migration):
    dependencies = [
        ("paging", "0002_sms_voice_webhooks_reply_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="page",
            name="exercise",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text=(
                    "A page of an exercise (drill): marked EXERCISE EXERCISE EXERCISE. "
                    "Never changed."
                ),
            ),
        ),
        frozen_column("paging_page", "exercise", "paging_page_exercise_never_changes", "a page's exercise flag"),
    ]
