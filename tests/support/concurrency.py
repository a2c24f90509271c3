"""Run actions at the same moment on separate database connections (threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def run_together(*targets: Callable[[], object], timeout: float = 30) -> list[Exception]:
    """Start every target behind one barrier, each thread on its own connection; return
    the exceptions they raised (so a test can assert there were none)."""
    errors: list[Exception] = []
    barrier = threading.Barrier(len(targets))

    def run(target):
        try:
            barrier.wait(timeout=10)
            target()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return errors
