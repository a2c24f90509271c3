"""Crisis models point at the directory's desks and states; the deadline engine's models leave
for the deadlines app. State only: no table changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deadlines', '0001_deadlines_from_crisis'),
        ('crisis', '0007_escalation_notifications'),
        ('directory', '0001_directory_from_crisis'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (same names): only Django's record moves.
            state_operations=[
                migrations.DeleteModel(
                    name='Deadline',
                ),
                migrations.DeleteModel(
                    name='DeadlineProbe',
                ),
                migrations.RemoveField(
                    model_name='desk',
                    name='state',
                ),
                migrations.AlterField(
                    model_name='timelineentry',
                    name='desk',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='crisistask',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='crisis_tasks', to='directory.desk'),
                ),
                migrations.RemoveField(
                    model_name='deskmembership',
                    name='desk',
                ),
                migrations.AlterField(
                    model_name='escalationack',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='crisis',
                    name='lead_desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='notification',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='capalert',
                    name='desk',
                    field=models.ForeignKey(blank=True, help_text='The desk that posted a received alert.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='crisis',
                    name='reported_by_desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='crisisparticipant',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='participations', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='situationupdate',
                    name='desk',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='directory.desk'),
                ),
                migrations.RemoveField(
                    model_name='deskmembership',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='SweepHeartbeat',
                ),
                migrations.AlterField(
                    model_name='crisis',
                    name='affected_states',
                    field=models.ManyToManyField(related_name='crises', to='directory.memberstate'),
                ),
                migrations.AlterField(
                    model_name='crisis',
                    name='desks',
                    field=models.ManyToManyField(related_name='crises', through='crisis.CrisisParticipant', to='directory.desk'),
                ),
                migrations.AlterField(
                    model_name='escalationlevel',
                    name='notify_desks',
                    field=models.ManyToManyField(blank=True, related_name='+', to='directory.desk'),
                ),
            ],
        ),
    ]
