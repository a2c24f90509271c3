"""The backup procedure of docs/operations.md, run for real: ``pg_dump`` the custom format,
``pg_restore`` into a fresh database, and prove the restore complete.

Complete means: every table holds the same rows (count and content digest), every
sequence stands where it stood, ``verify_timeline`` passes on the restored database (every
chain and the signed checkpoint, with the verify key), and a hotline carries on from its
last ``seq``: a message sent by a Django process on the restored database gets last + 1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from hotline.models import HotlineChannel, Message
from hotline.services.messages import send_message
from tests.security.test_timeline_anchor import write_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LINE = "THA-DDPM ⇄ KHM-NCDM"  # a demo line (hotline/demo.py)

SEND_AFTER_RESTORE = """
import json, sys, uuid, django
django.setup()
from django.contrib.auth import get_user_model
from hotline.services.messages import send_message
user = get_user_model().objects.get(username=sys.argv[2])
message, created = send_message(
    by=user, channel_id=int(sys.argv[1]), body="First word after the restore.",
    client_msg_id=uuid.uuid4(),
)
print(json.dumps({"seq": message.seq, "id": message.pk, "created": created}))
"""


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def pg_bin(name: str) -> str:
    """The system's PostgreSQL client program of the server's major version (or newer):
    pg_dump refuses a newer server, and the Debian binaries live outside PATH."""
    major = server_major()
    found = sorted(
        (int(p.parts[-3]), p)
        for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
        if p.parts[-3].isdigit() and int(p.parts[-3]) >= major
    )
    assert found, f"no {name} of PostgreSQL {major} or newer under /usr/lib/postgresql"
    return str(found[0][1])


def libpq_env() -> dict[str, str]:
    s = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": s["HOST"] or "127.0.0.1",
        "PGPORT": str(s["PORT"] or 5432),
        "PGUSER": s["USER"] or "postgres",
    }
    if s["PASSWORD"]:
        env["PGPASSWORD"] = s["PASSWORD"]
    return env


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def url_of(name: str) -> str:
    s = connection.settings_dict
    auth = (s["USER"] or "postgres") + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def snapshot(dbname: str) -> dict:
    """Per table: row count and a digest of every row; per sequence: where it stands."""
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or "postgres",
        password=s["PASSWORD"] or None,
        dbname=dbname,
        autocommit=True,
    ) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        rows = {}
        for table in tables:
            query = (
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f' FROM "{table}" t'  # (names from pg_tables)
            )
            count, digest = conn.execute(query).fetchone()
            rows[table] = (count, digest)
        sequences = dict(
            conn.execute(
                "SELECT sequencename, coalesce(last_value, 0) FROM pg_sequences "
                "WHERE schemaname = 'public'"
            ).fetchall()
        )
        triggers = conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
        ).fetchone()[0]
    return {"rows": rows, "sequences": sequences, "triggers": triggers}


def manage(database_url: str, redis_url: str, *args: str, verify_key: str = "", script=None):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TIMELINE_VERIFY_KEY_FILE": verify_key,
        "TIMELINE_SIGNING_KEY_FILE": "",
    }
    command = [sys.executable, "-c", script, *args] if script else [
        sys.executable, "manage.py", *args
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    env = libpq_env()
    run(pg_bin("dropdb"), "--if-exists", name, env=env)
    yield name
    run(pg_bin("dropdb"), "--if-exists", "--force", name, env=env)


def test_dump_restore_is_complete_and_a_hotline_resumes(
    tmp_path, settings, private_redis, restored_name
):
    # Real data: the demo (crises with timeline entries, hotline lines and rooms with
    # messages, assistance requests, pledges, shelters, a displacement import), a signed
    # checkpoint, and a message after it (an unsigned tail the restore must keep too).
    settings.REDIS_URL = private_redis.url
    call_command("seed_demo")
    signing, verify = write_key(tmp_path)
    settings.TIMELINE_SIGNING_KEY_FILE = signing
    settings.TIMELINE_VERIFY_KEY_FILE = verify
    call_command("checkpoint_timeline")
    line = HotlineChannel.objects.get(name=LINE)
    from django.contrib.auth import get_user_model

    tha = get_user_model().objects.get(username="tha-operator")
    send_message(
        by=tha, channel_id=line.pk, body="After the checkpoint.", client_msg_id=uuid.uuid4()
    )
    last_seq = max(Message.objects.filter(channel=line).values_list("seq", flat=True))

    source_name = connection.settings_dict["NAME"]
    source = snapshot(source_name)
    for table in (
        "crisis_crisis",
        "crisis_timelineentry",
        "crisis_timelinecheckpoint",
        "hotline_message",
        "humanitarian_assistancerequest",
    ):
        assert source["rows"].get(table, (0,))[0] > 0, f"the seed left {table} empty"

    # The backup, as the nightly job runs it.
    env = libpq_env()
    dump = tmp_path / "crisis.dump"
    started = time.monotonic()
    run(
        pg_bin("pg_dump"),
        "--format=custom",
        "--compress=6",
        "--file",
        str(dump),
        source_name,
        env=env,
    )
    dumped = time.monotonic() - started
    # The archive lists what it holds (pg_restore --list is the cheap check after each dump).
    listing = run(pg_bin("pg_restore"), "--list", str(dump)).stdout
    assert "TABLE DATA public hotline_message" in listing

    # The restore, as the drill runs it: a fresh database, no owner/privilege statements.
    started = time.monotonic()
    run(pg_bin("createdb"), restored_name, env=env)
    run(
        pg_bin("pg_restore"), "--exit-on-error", "--no-owner", "--no-privileges",
        "--jobs", "2", "--dbname", restored_name, str(dump), env=env,
    )  # fmt: skip
    restored_in = time.monotonic() - started
    print(
        f"pg_dump {dumped:.2f} s, {dump.stat().st_size} bytes; pg_restore {restored_in:.2f} s; "
        f"{sum(c for c, _ in source['rows'].values())} rows in {len(source['rows'])} tables"
    )

    restored = snapshot(restored_name)
    assert restored["rows"] == source["rows"]  # same counts, same content, every table
    assert restored["sequences"] == source["sequences"]
    assert restored["triggers"] == source["triggers"]  # the append-only guards came back

    # verify_timeline on the restored database, against the verify key.
    restored_url = url_of(restored_name)
    verified = manage(restored_url, private_redis.url, "verify_timeline", verify_key=verify)
    assert verified.returncode == 0, verified.stderr
    streams = source["rows"]["crisis_timelinestream"][0]
    entries = source["rows"]["crisis_timelineentry"][0]
    assert f"All {streams} timeline streams intact ({entries} entries); 1 signed" in verified.stdout

    # The code and the restored schema agree (no migration missing or unapplied).
    checked = manage(restored_url, private_redis.url, "migrate", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The hotline resumes from its last seq.
    sent = manage(
        restored_url, private_redis.url, str(line.pk), "tha-operator", script=SEND_AFTER_RESTORE
    )
    assert sent.returncode == 0, sent.stderr
    after = json.loads(sent.stdout.strip().splitlines()[-1])
    assert after == {"seq": last_seq + 1, "id": after["id"], "created": True}
    assert after["id"] > max(Message.objects.values_list("id", flat=True))
    # And the chains, with the new message in the transcript, still verify.
    again = manage(restored_url, private_redis.url, "verify_timeline", verify_key=verify)
    assert again.returncode == 0, again.stderr
    assert re.search(r"1 signed checkpoint\(s\) valid", again.stdout)
