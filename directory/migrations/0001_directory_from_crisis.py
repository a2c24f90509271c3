"""The directory's models, moved out of the crisis app (tables crisis_memberstate, crisis_desk,
crisis_deskmembership keep their names)."""

import directory.models
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('crisis', '0007_escalation_notifications'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (same names): only Django's record moves.
            state_operations=[
                migrations.CreateModel(
                    name='MemberState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.CharField(max_length=3, unique=True, validators=[django.core.validators.RegexValidator('^[A-Z]{3}$', 'Use the ISO 3166-1 alpha-3 code: three capital letters, e.g. THA.')], verbose_name='ISO 3166-1 alpha-3 code')),
                        ('name', models.CharField(max_length=100, unique=True)),
                    ],
                    options={
                        'db_table': 'crisis_memberstate',
                        'ordering': ['code'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('code__regex', '^[A-Z]{3}$')), name='state_code_iso3')],
                    },
                ),
                migrations.CreateModel(
                    name='Desk',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(help_text='Short stable name, e.g. THA-DDPM or AHA.', max_length=32, unique=True)),
                        ('name', models.CharField(max_length=200)),
                        ('kind', models.CharField(choices=[('national', 'National desk'), ('regional', 'Regional coordination centre')], default='national', max_length=16)),
                        ('time_zone', models.CharField(default='UTC', help_text='IANA name', max_length=64, validators=[directory.models.validate_time_zone])),
                        ('contact_email', models.EmailField(blank=True, max_length=254)),
                        ('contact_phone', models.CharField(blank=True, max_length=40)),
                        ('is_active', models.BooleanField(default=True)),
                        ('state', models.ForeignKey(blank=True, help_text='Empty only for the regional coordination centre.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='desks', to='directory.memberstate')),
                    ],
                    options={
                        'db_table': 'crisis_desk',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='DeskMembership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('operator', 'Operator'), ('supervisor', 'Supervisor'), ('coordinator', 'Coordinator (regional centre)'), ('auditor', 'Auditor (read-only)')], max_length=16)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('desk', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='directory.desk')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='desk_memberships', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'crisis_deskmembership',
                        'ordering': ['desk__code', 'role', 'user__username'],
                        'constraints': [models.UniqueConstraint(fields=('user', 'desk'), name='one_role_per_user_and_desk')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='desk',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'national'), ('state__isnull', False)), models.Q(('kind', 'regional'), ('state__isnull', True)), _connector='OR'), name='desk_national_has_state_regional_has_none', violation_error_message='A national desk belongs to a member state; the regional centre to none.'),
                ),
            ],
        ),
    ]
