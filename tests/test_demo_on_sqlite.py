"""`make run` runs on SQLite: the demo must migrate, seed (twice) and verify there.

The rest of the suite runs on PostgreSQL, so this is what catches PostgreSQL-only SQL on
a path the demo takes (hotline sends, deadline arming, the visibility union, …).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_migrates_seeds_twice_and_verifies_on_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "DEBUG": "true"}

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "--noinput", "-v", "0")
    assert "tha-operator" in manage("seed_demo")
    manage("seed_demo")
    assert "intact" in manage("verify_timeline")
    counts = manage(
        "shell",
        "-c",
        "from crisis.models import Crisis; from hotline.models import Message; "
        "print(Crisis.objects.count(), Message.objects.count())",
    )
    crises, messages = map(int, counts.split()[-2:])
    assert crises >= 1 and messages >= 5
