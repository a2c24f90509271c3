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


def frozen_column(table: str, column: str, name: str, what: str) -> migrations.RunPython:
    """A migration operation: a trigger ``name`` refusing an UPDATE that changes ``column``
    of ``table`` ("<what> is set when the row is written and never changed"). Other
    columns stay writable. On PostgreSQL and on SQLite (the embedded demo) alike.
    Reversible."""
    message = f"{what} is set when the row is written and never changed (UPDATE refused)"
    message = message.replace("'", "''")  # a quote in an SQL string literal
    postgres = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF NEW.{column} IS DISTINCT FROM OLD.{column} THEN
        RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER {name}
    BEFORE UPDATE OF {column} ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    sqlite = f"""
CREATE TRIGGER {name}
    BEFORE UPDATE OF {column} ON {table}
    FOR EACH ROW WHEN NEW.{column} IS NOT OLD.{column}
    BEGIN SELECT RAISE(ABORT, '{message}'); END;
"""

    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(postgres, params=None)
        elif vendor == "sqlite":
            schema_editor.execute(sqlite, params=None)

    def backwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};", params=None)
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}();", params=None)
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};", params=None)

    return migrations.RunPython(forwards, backwards)
