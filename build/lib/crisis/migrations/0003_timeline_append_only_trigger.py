"""On PostgreSQL, the database itself refuses UPDATE and DELETE of timeline entries."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION crisis_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'timeline entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER crisis_timeline_append_only
    BEFORE UPDATE OR DELETE ON crisis_timelineentry
    FOR EACH ROW EXECUTE FUNCTION crisis_timeline_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS crisis_timeline_append_only ON crisis_timelineentry;
DROP FUNCTION IF EXISTS crisis_timeline_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("crisis", "0002_protocols_crises_timeline")]

    operations = [migrations.RunPython(forwards, backwards)]
