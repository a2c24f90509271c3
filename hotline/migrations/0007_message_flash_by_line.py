"""Flash messages of a line by time: a small partial index, so the flash messages a desk
has not acknowledged are found without reading every message (docs/performance.md)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0002_desk_agency_type'),
        ('hotline', '0006_channel_exercise_never_changes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='message',
            index=models.Index(condition=models.Q(('priority', 'flash')), fields=['channel', 'created_at'], name='message_flash_by_line'),
        ),
    ]
