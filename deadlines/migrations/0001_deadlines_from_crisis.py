"""The deadline engine's models, moved out of the crisis app (tables crisis_deadline,
crisis_deadlineprobe, crisis_sweepheartbeat keep their names)."""

import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('crisis', '0007_escalation_notifications'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (same names): only Django's record moves.
            state_operations=[
                migrations.CreateModel(
                    name='DeadlineProbe',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('deadline_id', models.BigIntegerField(db_index=True)),
                        ('due_at', models.DateTimeField()),
                        ('fired_at', models.DateTimeField()),
                        ('label', models.CharField(blank=True, max_length=64)),
                    ],
                    options={
                        'db_table': 'crisis_deadlineprobe',
                        'ordering': ['fired_at'],
                    },
                ),
                migrations.CreateModel(
                    name='SweepHeartbeat',
                    fields=[
                        ('name', models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ('swept_at', models.DateTimeField()),
                        ('enqueued', models.PositiveIntegerField(default=0)),
                        ('fired', models.PositiveIntegerField(default=0)),
                        ('duration_ms', models.PositiveIntegerField(default=0)),
                    ],
                    options={
                        'db_table': 'crisis_sweepheartbeat',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Deadline',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(help_text='Which registered handler acts on it, e.g. crisis.escalation.', max_length=64)),
                        ('subject_key', models.CharField(help_text='What it is about, e.g. "crisis:12:level:2".', max_length=200)),
                        ('due_at', models.DateTimeField()),
                        ('state', models.CharField(choices=[('pending', 'Pending'), ('fired', 'Fired'), ('cancelled', 'Cancelled')], default='pending', max_length=16)),
                        ('token', models.UUIDField(default=uuid.uuid4, help_text='Regenerated on every re-arm; a task with another is stale.')),
                        ('payload', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('enqueued_at', models.DateTimeField(blank=True, help_text='When a task was last handed to the broker for it.', null=True)),
                        ('fired_at', models.DateTimeField(blank=True, null=True)),
                        ('cancelled_at', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveIntegerField(default=0, help_text='Failed handler runs so far.')),
                        ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_error', models.TextField(blank=True)),
                    ],
                    options={
                        'db_table': 'crisis_deadline',
                        'ordering': ['due_at', 'id'],
                        'indexes': [models.Index(fields=['state', 'due_at'], name='deadline_state_due'), models.Index(fields=['subject_key', 'state'], name='deadline_subject_state'), models.Index(fields=['-fired_at'], name='deadline_fired_recent')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('state', 'pending')), fields=('kind', 'subject_key'), name='one_pending_deadline_per_kind_and_subject', violation_error_message='This subject already has a pending deadline of that kind.'), models.CheckConstraint(condition=models.Q(models.Q(('cancelled_at__isnull', True), ('fired_at__isnull', True), ('state', 'pending')), models.Q(('fired_at__isnull', False), ('state', 'fired')), models.Q(('cancelled_at__isnull', False), ('state', 'cancelled')), _connector='OR'), name='deadline_state_matches_timestamps')],
                    },
                ),
            ],
        ),
    ]
