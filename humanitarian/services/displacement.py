"""Importing displacement figures (IOM DTM shape) from CSV, HXL-tagged or not.

The import is all or nothing: every row is validated first (the job's progress figure
moves as it goes, committed as it goes so another request can read it), and only a file
with no bad row is written, in one transaction. The report names each bad row (its line
number in the file) and column (its header).

A job's report is read later, perhaps by someone else, perhaps written by a worker with
no request (and so no language) at hand: each problem is stored as its English words
(``message``) and as the words to say (``say``, a msgid marked with ``gettext_noop``) with
their ``params``; ``ImportJob.readable_errors`` says them in the reader's language when the
page or the API shows them.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import IO

from celery import current_app
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import InvalidInput, PayloadTooLarge
from core.events import run_after_response
from crisis.models import Crisis
from crisis.services import timeline
from directory.access import access_for
from directory.models import Desk
from humanitarian.models import AssessmentType, DisplacementReport, ImportJob, ImportStatus
from humanitarian.selectors import visible_crisis
from humanitarian.services._common import MAX_COUNT, announce

logger = logging.getLogger(__name__)

#: Files up to this many data rows are imported within the upload request; larger ones
#: go to a Celery worker and the caller follows the job's progress.
INLINE_ROWS = 500
#: The worker task that runs a larger import (``humanitarian.tasks``), sent by name.
IMPORT_TASK = "humanitarian.tasks.run_displacement_import"
#: The import task's hard time limit (``humanitarian.tasks``); a job running longer was
#: killed and is reaped.
IMPORT_TIME_LIMIT_SECONDS = 600
#: A pending job handed to the broker this long ago without starting is sent again.
IMPORT_REQUEUE_SECONDS = 900
#: Runs a job gets (a killed run is retried once).
MAX_IMPORT_ATTEMPTS = 2
PROGRESS_EVERY = 200
MAX_REPORTED_ERRORS = 500
MAX_FILE_BYTES = 20 * 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024


def said(words: str, **params) -> dict:
    """A problem for a job's report: ``words`` (a ``gettext_noop`` msgid with
    ``%(name)s`` placeholders) in English, and what is needed to say it in any language."""
    return {"message": words % params, "say": words, "params": params}


# The words a job's report says, marked for the catalogues.
EMPTY_FILE = gettext_noop("The file is empty.")
INVALID_CSV = gettext_noop("Line %(reader_line_num)s of the file is not valid CSV: %(exc)s.")
REQUIRED = gettext_noop("is required")
COLUMN_MISSING = gettext_noop("column is missing from the file")
NOT_ALPHA3 = gettext_noop("%(value)s is not an ISO 3166-1 alpha-3 code")
IN_FUTURE = gettext_noop("is in the future")
NOT_A_DATE = gettext_noop("%(value)s is not a date (YYYY-MM-DD)")
NOT_WHOLE = gettext_noop("%(value)s is not a whole number of %(minimum)s or more")
TOO_LARGE = gettext_noop("%(value)s is larger than %(maximum)s")
NOT_ONE_OF = gettext_noop("%(value)s is not one of %(allowed)s")
TOO_LONG = gettext_noop("is longer than %(limit)s characters")
NOT_OWN_STATE = gettext_noop(
    "%(value)s is not a state this desk reports figures for (only %(allowed)s)"
)
NOT_OWN_STATE_NONE = gettext_noop(
    "%(value)s is not a state this desk reports figures for (it reports for no state)"
)
REPEATED = gettext_noop("repeats the area and round of row %(row)s")
ALREADY_THERE = gettext_noop("this area already has a figure for this round")
TIMED_OUT = gettext_noop(
    "The import did not finish in %(minutes)s minutes, twice; nothing was written. Split "
    "the file and upload the parts."
)
CLASHED = gettext_noop(
    "Another import wrote figures for the same areas and rounds meanwhile; nothing was "
    "written. Upload the file again to see which."
)


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the human header we export
    tag: str  # the HXL hashtag we export (and accept back)
    required: bool = True


#: The displacement columns, in export order. Import matches HXL tags by hashtag and
#: attributes (extra attributes are fine), or plain headers by the human header/field.
COLUMNS = [
    Column("country_code", "Country code", "#country+code"),
    Column("country_name", "Country", "#country+name"),
    Column("admin1_name", "Admin 1", "#adm1+name"),
    Column("admin1_code", "Admin 1 code", "#adm1+code"),
    Column("admin2_name", "Admin 2", "#adm2+name", required=False),
    Column("admin2_code", "Admin 2 code", "#adm2+code", required=False),
    Column("reported_on", "Reporting date", "#date+reported"),
    Column("round", "Round", "#meta+round"),
    Column("assessment_type", "Assessment type", "#meta+assessment", required=False),
    Column("idps", "IDPs (individuals)", "#affected+idps+ind"),
    Column("refugees", "Refugees (individuals)", "#affected+refugees+ind"),
    Column("source", "Source", "#meta+source"),
]


def _parse_tag(text: str) -> tuple[str, frozenset[str]] | None:
    text = text.strip().lower().replace(" ", "")
    if not re.fullmatch(r"#[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)*", text):
        return None
    name, *attrs = text.split("+")
    return name, frozenset(attrs)


def _is_hashtag_row(row: list[str]) -> bool:
    cells = [c.strip() for c in row if c.strip()]
    return bool(cells) and all(_parse_tag(c) is not None for c in cells)


@dataclass
class Layout:
    header_row: int  # 1-based line of the row that names the columns
    indexes: dict[str, int]  # field -> column index
    names: dict[str, str]  # field -> how the file names that column


def _layout(rows: list[list[str]]) -> Layout:
    """Find the HXL hashtag row (first 25 rows, as libhxl does) or use the first row."""
    for i, row in enumerate(rows[:25]):
        if _is_hashtag_row(row):
            tags = [_parse_tag(c) if c.strip() else None for c in row]
            indexes, names = {}, {}
            for column in COLUMNS:
                want_name, want_attrs = _parse_tag(column.tag)
                for j, tag in enumerate(tags):
                    if tag and tag[0] == want_name and want_attrs <= tag[1]:
                        human = rows[i - 1][j].strip() if i and j < len(rows[i - 1]) else ""
                        indexes[column.field] = j
                        tag_text = row[j].strip()
                        names[column.field] = f"{human} ({tag_text})" if human else tag_text
                        break
            return Layout(i + 1, indexes, names)
    if not rows:
        raise InvalidInput(_(EMPTY_FILE), code="empty_file")
    header = [c.strip().lower() for c in rows[0]]
    indexes, names = {}, {}
    for column in COLUMNS:
        for j, text in enumerate(header):
            if text in (column.header.lower(), column.field):
                indexes[column.field] = j
                names[column.field] = rows[0][j].strip()
                break
    return Layout(1, indexes, names)


def _read_rows(content: str) -> list[list[str]]:
    """The file's rows; InvalidInput (``invalid_csv``, naming the line) if it is not CSV,
    e.g. a field longer than the csv module's 128 KiB limit."""
    reader = csv.reader(io.StringIO(content))
    try:
        return list(reader)
    except csv.Error as exc:
        raise InvalidInput(
            _(INVALID_CSV) % {"reader_line_num": reader.line_num, "exc": exc},
            code="invalid_csv",
            details={"field": "file", "row": reader.line_num, "problem": str(exc)},
        ) from exc


def data_row_count(content: str) -> int:
    rows = _read_rows(content)
    try:
        layout = _layout(rows)
    except InvalidInput:
        return 0
    return sum(1 for row in rows[layout.header_row :] if any(c.strip() for c in row))


def _validate_row(values: dict[str, str], err) -> dict | None:
    out: dict = {}
    ok = True

    def fail(field, message):
        nonlocal ok
        ok = False
        err(field, message)

    for column in COLUMNS:
        raw = values.get(column.field, "").strip()
        if column.required and not raw:
            fail(column.field, said(REQUIRED))
            continue
        out[column.field] = raw
    if not ok:
        return None
    code = out["country_code"].upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        fail("country_code", said(NOT_ALPHA3, value=repr(out["country_code"])))
    out["country_code"] = code
    try:
        out["reported_on"] = date.fromisoformat(out["reported_on"])
        if out["reported_on"] > timezone.now().date():
            fail("reported_on", said(IN_FUTURE))
    except ValueError:
        fail("reported_on", said(NOT_A_DATE, value=repr(out["reported_on"])))
    for field, minimum in (("round", 1), ("idps", 0), ("refugees", 0)):
        text = out[field].replace(",", "")
        if not re.fullmatch(r"[0-9]+", text) or int(text) < minimum:
            fail(field, said(NOT_WHOLE, value=repr(out[field]), minimum=minimum))
        elif int(text) > MAX_COUNT:
            fail(field, said(TOO_LARGE, value=repr(out[field]), maximum=MAX_COUNT))
        else:
            out[field] = int(text)
    kind = (out.get("assessment_type") or AssessmentType.BASELINE).lower()
    if kind not in AssessmentType.values:
        fail(
            "assessment_type",
            said(NOT_ONE_OF, value=repr(kind), allowed=", ".join(AssessmentType.values)),
        )
    out["assessment_type"] = kind
    for field, limit in (("country_name", 100), ("admin1_name", 120), ("admin2_name", 120),
                         ("admin1_code", 20), ("admin2_code", 20), ("source", 200)):  # fmt: skip
        if len(out.get(field, "")) > limit:
            fail(field, said(TOO_LONG, limit=limit))
    return out if ok else None


def _read_bounded(upload: IO[bytes]) -> bytes:
    """The upload's bytes, read in chunks and refused past ``MAX_FILE_BYTES``."""
    chunks = (
        upload.chunks()
        if hasattr(upload, "chunks")
        else iter(lambda: upload.read(READ_CHUNK_BYTES), b"")
    )
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise _too_large()
        parts.append(chunk)
    return b"".join(parts)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        _("The file is larger than %(mb)s MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
        code="file_too_large",
        details={"field": "file", "limit_bytes": MAX_FILE_BYTES},
    )


def upload_text(content: str | bytes | IO[bytes]) -> str:
    """The CSV text of an upload, however it came: an uploaded file, its bytes, or text.

    The one place an upload is sized and decoded. A file is read in chunks and at most
    ``MAX_FILE_BYTES`` are kept (413 ``file_too_large`` beyond); bytes must be UTF-8
    (``not_utf8`` otherwise) and hold no NUL character (``nul_in_file``: PostgreSQL
    cannot store one); a leading byte-order mark, which spreadsheet programs write, is
    dropped so the first header matches.
    """
    if not isinstance(content, str | bytes):
        content = _read_bounded(content)
    size = len(content) if isinstance(content, bytes) else len(content.encode())
    if size > MAX_FILE_BYTES:
        raise _too_large()
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(_("The file is not UTF-8 text."), code="not_utf8") from exc
    if "\x00" in content:
        line = content.count("\n", 0, content.index("\x00")) + 1
        raise InvalidInput(
            _("The file contains a NUL character (line %(line)s); it is not a CSV text file.")
            % {"line": line},
            code="nul_in_file",
            details={"field": "file", "row": line},
        )
    return content.lstrip("\ufeff")


def start_import(
    *, by, desk: Desk, crisis: Crisis, content: str | bytes | IO[bytes], filename: str = ""
) -> ImportJob:
    """Accept a CSV upload as an import job (see :func:`upload_text` for what is accepted).

    Small files are validated and written before this returns; larger ones are handed to
    a worker (``humanitarian.tasks.run_displacement_import``) after commit. The caller
    must act for ``desk`` and see ``crisis``; that is checked before the file is read.
    """
    access = access_for(by)
    with transaction.atomic():
        crisis = visible_crisis(access, crisis.pk)
        access.require_act_for(desk)
        content = upload_text(content)
        total = data_row_count(content)
        job = ImportJob.objects.create(
            crisis=crisis,
            desk=desk,
            created_by=by,
            filename=filename[:200],
            content=content,
            total_rows=total,
        )
        if total > INLINE_ROWS:
            transaction.on_commit(
                lambda: run_after_response(
                    lambda: enqueue_import(job.pk), what=f"import job {job.pk}"
                ),
                robust=True,
            )
    if total <= INLINE_ROWS:
        run_import(job_id=job.pk)
        job.refresh_from_db()
    return job


def enqueue_import(job_id: int) -> bool:
    """Hand a pending job's task to the broker; never raises. With the broker down the job
    stays pending with no ``enqueued_at`` and :func:`reap_import_jobs` sends it later.
    Returns whether it was sent."""
    try:
        current_app.send_task(IMPORT_TASK, (job_id,), retry=False)
    except Exception:  # broker down or slow: the reaper sends it again
        logger.warning("could not enqueue import job %s; the reaper will", job_id, exc_info=True)
        return False
    ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        enqueued_at=timezone.now()
    )
    return True


def reap_import_jobs(*, now=None) -> dict[str, int]:
    """Beat's sweep of import jobs nobody is working on. Safe to run twice.

    - pending and never handed to the broker (it was down at upload), or handed over
      longer than ``IMPORT_REQUEUE_SECONDS`` ago (the task was lost): sent again (a
      duplicate task finds the job taken and does nothing);
    - running for longer than the task's time limit (killed by it, or its worker died):
      back to pending and sent again once; a second time it fails, with a reason.
      A run writes all its rows in one transaction at the end, so a killed run wrote none.
    """
    now = now or timezone.now()
    requeue_before = now - timezone.timedelta(seconds=IMPORT_REQUEUE_SECONDS)
    stuck_before = now - timezone.timedelta(seconds=IMPORT_TIME_LIMIT_SECONDS + 60)
    failed = retried = 0
    with transaction.atomic():
        stuck = ImportJob.objects.select_for_update(skip_locked=True).filter(
            status=ImportStatus.RUNNING, started_at__lt=stuck_before
        )
        for job in stuck:
            if job.attempts >= MAX_IMPORT_ATTEMPTS:
                job.status = ImportStatus.FAILED
                job.finished_at = now
                job.errors = [
                    {
                        "row": 0,
                        "column": "",
                        **said(TIMED_OUT, minutes=IMPORT_TIME_LIMIT_SECONDS // 60),
                    }
                ]
                job.save(update_fields=["status", "finished_at", "errors"])
                failed += 1
            else:
                job.status = ImportStatus.PENDING
                job.enqueued_at = None
                job.save(update_fields=["status", "enqueued_at"])
                retried += 1
    waiting = list(
        ImportJob.objects.filter(status=ImportStatus.PENDING, total_rows__gt=INLINE_ROWS)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=requeue_before))
        .values_list("pk", flat=True)[:500]
    )
    sent = 0
    for pk in waiting:
        if not enqueue_import(pk):
            break  # the broker is down: the next run tries again
        sent += 1
    return {"sent": sent, "retried": retried, "failed": failed, "waiting": len(waiting)}


def run_import(*, job_id: int) -> None:
    """Validate every row, then write all of them in one transaction or none.

    Safe to run twice: only a pending job is taken (the first run marks it running).
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ImportStatus.PENDING:
            return
        job.status = ImportStatus.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts"])

    errors: list[dict] = []
    valid: list[dict] = []
    try:
        rows = _read_rows(job.content)
        layout = _layout(rows)
    except InvalidInput as exc:
        row = exc.details.get("row", 1)
        words = (
            said(INVALID_CSV, reader_line_num=row, exc=exc.details.get("problem", ""))
            if exc.code == "invalid_csv"
            else said(EMPTY_FILE)
        )
        return _finish(job, [{"row": row, "column": "", **words}], [])
    missing = [c for c in COLUMNS if c.required and c.field not in layout.indexes]
    if missing:
        errors = [
            {
                "row": layout.header_row,
                "column": f"{c.header} ({c.tag})",
                **said(COLUMN_MISSING),
            }
            for c in missing
        ]
        return _finish(job, errors, [])

    own_states = _states_the_desk_reports_for(job)
    seen_keys: dict[tuple, int] = {}
    existing = set(
        DisplacementReport.objects.filter(crisis_id=job.crisis_id).values_list(
            "country_code", "admin1_code", "admin2_code", "round"
        )
    )
    processed = 0
    for line, row in enumerate(rows[layout.header_row :], start=layout.header_row + 1):
        if not any(c.strip() for c in row):
            continue
        values = {f: (row[i] if i < len(row) else "") for f, i in layout.indexes.items()}

        def err(field, words: dict, line=line):
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(
                    {
                        "row": line,
                        "column": layout.names.get(field) or field,
                        "field": field,
                        **words,
                    }
                )

        clean = _validate_row(values, err)
        if clean is not None and clean["country_code"] not in own_states:
            err("country_code", _not_own_state(job, clean["country_code"], own_states))
        elif clean is not None:
            key = (
                clean["country_code"],
                clean["admin1_code"],
                clean["admin2_code"],
                clean["round"],
            )
            if key in seen_keys:
                err("round", said(REPEATED, row=seen_keys[key]))
            elif key in existing:
                err("round", said(ALREADY_THERE))
            else:
                seen_keys[key] = line
                valid.append(clean)
        processed += 1
        if processed % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed)
    job.processed_rows = processed
    return _finish(job, errors, valid)


def _states_the_desk_reports_for(job: ImportJob) -> set[str]:
    """A national desk reports figures for its own state only; the regional centre for
    the states the crisis affects. Another state's figures would block that state's own
    later import of the same areas and rounds."""
    desk = Desk.objects.select_related("state").get(pk=job.desk_id)
    if desk.state_id is not None:
        return {desk.state.code}
    return set(job.crisis.affected_states.values_list("code", flat=True))


def _not_own_state(job: ImportJob, code: str, own: set[str]) -> dict:
    if not own:
        return said(NOT_OWN_STATE_NONE, value=repr(code))
    return said(NOT_OWN_STATE, value=repr(code), allowed=", ".join(sorted(own)))


def _write_reports(job: ImportJob, rows: list[dict]) -> None:
    """Insert the validated rows: one ``COPY … FROM STDIN`` on PostgreSQL (a streamed
    statement, several times faster than batched INSERTs at 100,000 rows), batched
    INSERTs elsewhere (SQLite, the one-machine demo). Call inside the job's transaction:
    a clash with another import raises ``IntegrityError`` either way."""
    if connection.vendor != "postgresql":
        DisplacementReport.objects.bulk_create(
            [
                DisplacementReport(
                    crisis_id=job.crisis_id, reported_by_desk_id=job.desk_id, import_job=job, **row
                )
                for row in rows
            ],
            batch_size=1000,
        )
        return
    meta = DisplacementReport._meta
    fields = [c.field for c in COLUMNS]
    names = ["crisis", "reported_by_desk", "import_job", "created_at", *fields]
    columns = ", ".join(connection.ops.quote_name(meta.get_field(n).column) for n in names)
    fixed = (job.crisis_id, job.desk_id, job.pk, timezone.now())
    statement = f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row((*fixed, *(row[f] for f in fields)))


def _finish(job: ImportJob, errors: list[dict], valid: list[dict]) -> None:
    job.finished_at = timezone.now()
    if errors:
        job.status = ImportStatus.FAILED
        job.errors = errors
        job.save(update_fields=["status", "errors", "processed_rows", "finished_at"])
        return
    try:
        with transaction.atomic():
            _write_reports(job, valid)
            job.finished_at = timezone.now()  # the run includes its write
            job.status = ImportStatus.SUCCEEDED
            job.created_count = len(valid)
            job.processed_rows = job.total_rows = len(valid)
            job.save(
                update_fields=[
                    "status",
                    "created_count",
                    "processed_rows",
                    "total_rows",
                    "finished_at",
                ]
            )
            crisis = Crisis.objects.get(pk=job.crisis_id)
            timeline.record(
                kind="displacement.imported",
                crisis=crisis,
                actor=job.created_by,
                desk=job.desk,
                payload={
                    "import_job": job.pk,
                    "rows": len(valid),
                    "idps": sum(r["idps"] for r in valid),
                    "refugees": sum(r["refugees"] for r in valid),
                    "filename": job.filename,
                },
            )
            announce(crisis, {"type": "displacement.imported", "import_job": job.pk}, job.desk_id)
    except IntegrityError:
        job.status = ImportStatus.FAILED
        job.errors = [{"row": 0, "column": "", **said(CLASHED)}]
        job.save(update_fields=["status", "errors", "processed_rows", "finished_at"])
