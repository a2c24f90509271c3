"""``manage.py deadlines_status``: is the deadline engine alive, and what is pending?

``escalation_status`` is the same command under its old name."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from deadlines.models import Deadline, DeadlineProbe, DeadlineState
from deadlines.services import PROBE_KIND, engine_status, schedule_deadline


class Command(BaseCommand):
    help = (
        "Report the deadline engine's health: pending and overdue deadlines, the sweep "
        "heartbeat, recent lateness. Exits 1 when something is wrong. --probe arms a "
        "canary deadline and waits for a worker to fire it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--limit", type=int, default=20, help="pending deadlines to list")
        parser.add_argument(
            "--probe",
            type=float,
            metavar="SECONDS",
            help="arm a canary due in 2 s and wait up to SECONDS for a worker to fire it",
        )

    def handle(self, *args, **options):
        status = engine_status()
        if options["probe"]:
            status["probe"] = self._probe(options["probe"])
            if not status["probe"]["fired"]:
                status["ok"] = False
                status["problems"].append("the canary deadline did not fire in time")
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
        else:
            self._print(status, options["limit"])
        if not status["ok"]:
            raise SystemExit(1)

    def _probe(self, wait_seconds: float) -> dict:
        import time

        due_at = timezone.now() + timedelta(seconds=2)
        deadline = schedule_deadline(
            kind=PROBE_KIND,
            subject_key=f"probe:{timezone.now().timestamp()}",
            due_at=due_at,
            payload={"label": "deadlines_status"},
        )
        give_up = time.monotonic() + wait_seconds
        while time.monotonic() < give_up:
            probe = DeadlineProbe.objects.filter(deadline_id=deadline.pk).first()
            if probe:
                return {"fired": True, "lateness_seconds": probe.lateness_seconds}
            time.sleep(0.2)
        return {"fired": False, "lateness_seconds": None}

    def _print(self, status: dict, limit: int) -> None:
        w = self.stdout.write
        w(("OK" if status["ok"] else "PROBLEM") + ": deadline engine")
        for problem in status["problems"]:
            w(f"  ! {problem}")
        w(f"pending: {status['pending']}  due now: {status['due_now']}  ")
        w(f"overdue: {status['overdue']}  failing: {status['failing']}")
        sweep = status["sweep"]
        w(f"sweep: last at {sweep['last_at'] or 'never'} (age {sweep['age_seconds']} s)")
        recent = status["recent_firings"]
        w(
            f"recent firings: {recent['count']}, lateness p50 {recent['p50_lateness_seconds']} s"
            f", p99 {recent['p99_lateness_seconds']} s, max {recent['max_lateness_seconds']} s"
        )
        if "probe" in status:
            w(f"probe: {status['probe']}")
        now = timezone.now()
        rows = Deadline.objects.filter(state=DeadlineState.PENDING).order_by("due_at")[:limit]
        for d in rows:
            delta = (d.due_at - now).total_seconds()
            when = f"in {delta:.1f} s" if delta >= 0 else f"OVERDUE {-delta:.1f} s"
            w(f"  {d.kind:24} {d.subject_key:32} {when}  attempts={d.attempts}")
