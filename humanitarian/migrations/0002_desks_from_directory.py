"""States and desks now live in the directory app: the foreign keys point there (no database
change)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0001_directory_from_crisis'),
        ('humanitarian', '0001_assistance_standby_shelters_displacement'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (same names): only Django's record moves.
            state_operations=[
                migrations.AlterField(
                    model_name='assistancerequest',
                    name='requesting_desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='assistancerequest',
                    name='state',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.memberstate'),
                ),
                migrations.AlterField(
                    model_name='displacementreport',
                    name='reported_by_desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='importjob',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='pledge',
                    name='pledging_desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='pledge',
                    name='state',
                    field=models.ForeignKey(blank=True, help_text='Empty when the regional coordination centre pledges.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.memberstate'),
                ),
                migrations.AlterField(
                    model_name='shelter',
                    name='country',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.memberstate'),
                ),
                migrations.AlterField(
                    model_name='shelter',
                    name='managing_desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='shelter',
                    name='managing_state',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.memberstate'),
                ),
                migrations.AlterField(
                    model_name='standbyasset',
                    name='desk',
                    field=models.ForeignKey(help_text='Desk that deploys it.', on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='standbyasset',
                    name='state',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='standby_assets', to='directory.memberstate'),
                ),
            ],
        ),
    ]
