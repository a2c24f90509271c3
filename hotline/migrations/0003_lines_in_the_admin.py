"""People say "line": admin names for lines, their members, events (no database change)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0002_desks_from_directory'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='channelevent',
            options={'ordering': ['id'], 'verbose_name': 'line event'},
        ),
        migrations.AlterModelOptions(
            name='channelmember',
            options={'ordering': ['channel_id', 'desk__code'], 'verbose_name': 'line member'},
        ),
        migrations.AlterModelOptions(
            name='hotlinechannel',
            options={'ordering': ['id'], 'verbose_name': 'line'},
        ),
        migrations.AlterField(
            model_name='channelevent',
            name='channel',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='hotline.hotlinechannel', verbose_name='line'),
        ),
        migrations.AlterField(
            model_name='channelmember',
            name='channel',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='members', to='hotline.hotlinechannel', verbose_name='line'),
        ),
        migrations.AlterField(
            model_name='linecheck',
            name='channel',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='line_checks', to='hotline.hotlinechannel', verbose_name='line'),
        ),
        migrations.AlterField(
            model_name='message',
            name='channel',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='hotline.hotlinechannel', verbose_name='line'),
        ),
    ]
