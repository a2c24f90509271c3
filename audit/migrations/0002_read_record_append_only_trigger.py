"""On PostgreSQL, the database itself refuses UPDATE and DELETE of read records."""

from django.db import migrations

from core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_read_record")]

    operations = [
        append_only("audit_readrecord", "audit_readrecord_append_only", "read records")
    ]
