"""Desks now live in the directory app: the foreign keys point there (no database change)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0001_directory_from_crisis'),
        ('hotline', '0001_hotline_channels_messages_receipts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (same names): only Django's record moves.
            state_operations=[
                migrations.AlterField(
                    model_name='channelevent',
                    name='desk',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='channelmember',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='deskpresence',
                    name='desk',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='hotlinechannel',
                    name='proposed_by_desk',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='sender_desk',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='presencesession',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='receipt',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
            ],
        ),
    ]
