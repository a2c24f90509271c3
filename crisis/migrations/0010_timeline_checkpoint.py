"""Signed timeline checkpoints (docs/security.md), append-only like the entries."""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION crisis_timeline_checkpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'timeline checkpoints are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER crisis_timeline_checkpoint_append_only
    BEFORE UPDATE OR DELETE ON crisis_timelinecheckpoint
    FOR EACH ROW EXECUTE FUNCTION crisis_timeline_checkpoint_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS crisis_timeline_checkpoint_append_only ON crisis_timelinecheckpoint;
DROP FUNCTION IF EXISTS crisis_timeline_checkpoint_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


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
        migrations.RunPython(forwards, backwards),
    ]
