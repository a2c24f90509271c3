"""Database pieces the apps' migrations share."""

from __future__ import annotations

from django.db import migrations


def append_only(table: str, name: str, what: str) -> migrations.RunPython:
    """A migration operation: on PostgreSQL, a trigger ``name`` refusing UPDATE and DELETE
    on ``table`` ("<what> are append-only (UPDATE refused)"); nothing elsewhere (the
    models refuse it too). Reversible."""
    create = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{what} are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {name}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    drop = f"""
DROP TRIGGER IF EXISTS {name} ON {table};
DROP FUNCTION IF EXISTS {name}();
"""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create, params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop, params=None)

    return migrations.RunPython(forwards, backwards)
