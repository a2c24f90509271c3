"""On PostgreSQL, the database itself refuses UPDATE and DELETE of read records."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_readrecord_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'read records are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_readrecord_append_only
    BEFORE UPDATE OR DELETE ON audit_readrecord
    FOR EACH ROW EXECUTE FUNCTION audit_readrecord_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_readrecord_append_only ON audit_readrecord;
DROP FUNCTION IF EXISTS audit_readrecord_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_read_record")]

    operations = [migrations.RunPython(forwards, backwards)]
