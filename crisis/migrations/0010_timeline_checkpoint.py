"""Signed timeline checkpoints (docs/security.md), append-only like the entries."""

from django.db import migrations, models

from core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("crisis", "0009_directory_models_leave_crisis")]

    operations = [
        migrations.CreateModel(
            name="TimelineCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField(unique=True)),
                ("at", models.DateTimeField()),
                ("prev_digest", models.CharField(max_length=64)),
                ("streams", models.JSONField(default=dict, help_text="{stream key: [seq, hash]}")),
                ("transcripts", models.JSONField(default=dict, help_text="{line:<id>: [seq, hash]}")),
                ("digest", models.CharField(max_length=64)),
                ("signature", models.CharField(help_text="Ed25519 over the digest, base64.", max_length=128)),
                ("public_key", models.CharField(help_text="The signer's raw public key, hex.", max_length=64)),
                ("key_id", models.CharField(help_text="SHA-256 of the public key, 16 hex.", max_length=16)),
            ],
            options={"ordering": ["seq"]},
        ),
        append_only(
            "crisis_timelinecheckpoint",
            "crisis_timeline_checkpoint_append_only",
            "timeline checkpoints",
        ),
    ]
