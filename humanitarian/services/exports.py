"""HXL 1.1 CSV exports: a human header row, then the hashtag row, then data.

The tags are chosen so libhxl's default schema passes (numbers under ``#value``,
``#population`` and ``#affected``, dates under ``#date``) and so the displacement export
can be imported back unchanged (same columns as the import).

Spreadsheet formulas: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return would be run as a formula by Excel or LibreOffice when the file is
opened (CSV injection, OWASP). Such a cell is written with a leading apostrophe. Only
text is touched: numbers (quantities, coordinates, which may be negative) are written as
numbers, so a legitimately negative longitude stays ``-75.5``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC

from django.db.models import BigIntegerField, Expression, ExpressionWrapper, F, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from humanitarian.models import ITEMS, AssistanceRequest, Pledge, PledgeStatus
from humanitarian.services.displacement import COLUMNS as DISPLACEMENT_COLUMNS

#: Rows per chunk of a streamed export (:func:`hxl_csv_chunks`) and per database fetch.
ROWS_PER_CHUNK = 2000


@dataclass(frozen=True)
class HxlColumn:
    """One column: its human header, its HXL tag, where its value comes from (a
    ``values_list`` path such as ``"crisis__reference"``, or an expression) and how a
    value is written (``show``; ``None`` is written as an empty cell by the csv module)."""

    header: str
    tag: str
    source: str | Expression
    show: Callable | None = None


def _day(field: str) -> Expression:
    """The UTC date of a timestamp, computed by the database (Python would parse every
    timestamp of every row to throw its time away)."""
    return TruncDate(field, tzinfo=UTC)


def _iso(value) -> str:
    return "" if value is None else value.isoformat()


def _ref(prefix: str) -> Callable:
    """The reference people use (``REQ-12``, as the models' ``reference``) from a
    primary key; an empty cell for none."""
    return lambda pk: "" if pk is None else f"{prefix}-{pk}"


def _blank(value):
    return "" if value is None else value


REQUEST_COLUMNS = [
    HxlColumn("Request", "#meta+id", "pk", _ref(AssistanceRequest.REFERENCE_PREFIX)),
    HxlColumn("Crisis", "#crisis+code", "crisis__reference"),
    HxlColumn("Country code", "#country+code", "state__code"),
    HxlColumn("Admin 1", "#adm1+name", "admin1_name"),
    HxlColumn("Admin 1 code", "#adm1+code", "admin1_code"),
    HxlColumn("Location", "#loc+name", "location"),
    HxlColumn("Requesting desk", "#org+code", "requesting_desk__code"),
    HxlColumn("Sector", "#sector+code", "sector"),
    HxlColumn("Item", "#item+code", "item"),
    HxlColumn("Item name", "#item+name", "item", lambda item: ITEMS[item].label),
    HxlColumn("Unit", "#meta+unit", "unit"),
    HxlColumn("Quantity requested", "#value+requested", "quantity"),
    HxlColumn("Quantity accepted", "#value+accepted", "quantity_accepted"),
    HxlColumn("Quantity delivered", "#value+delivered", "quantity_delivered"),
    HxlColumn("Needed by", "#date+needed", _day("needed_by"), _iso),
    HxlColumn("Priority", "#meta+priority", "priority"),
    HxlColumn("Status", "#status", "status"),
    HxlColumn(
        "Date reported",
        "#date+reported",
        Coalesce(_day("opened_at"), _day("created_at")),
        _iso,
    ),
]

PLEDGE_COLUMNS = [
    HxlColumn("Pledge", "#meta+id", "pk", _ref(Pledge.REFERENCE_PREFIX)),
    HxlColumn("Request", "#meta+request", "request_id", _ref(AssistanceRequest.REFERENCE_PREFIX)),
    HxlColumn("Crisis", "#crisis+code", "crisis__reference"),
    HxlColumn("Recipient country code", "#country+code", "request__state__code", _blank),
    HxlColumn("Pledging desk", "#org+code", "pledging_desk__code"),
    HxlColumn("Pledging state", "#meta+donor", "state__code", lambda code: code or "RCC"),
    HxlColumn("Sector", "#sector+code", "sector"),
    HxlColumn("Item", "#item+code", "item"),
    HxlColumn("Unit", "#meta+unit", "unit"),
    HxlColumn("Quantity pledged", "#value+pledged", "quantity"),
    HxlColumn("Quantity accepted", "#value+accepted", "quantity_accepted"),
    HxlColumn("Expected arrival", "#date+eta", _day("eta"), _iso),
    HxlColumn("Status", "#status", "status"),
    HxlColumn("Date offered", "#date+reported", _day("offered_at"), _iso),
]

DELIVERY_COLUMNS = [
    HxlColumn("Pledge", "#meta+id", "pk", _ref(Pledge.REFERENCE_PREFIX)),
    HxlColumn("Request", "#meta+request", "request_id", _ref(AssistanceRequest.REFERENCE_PREFIX)),
    HxlColumn("Crisis", "#crisis+code", "crisis__reference"),
    HxlColumn("Country code", "#country+code", "request__state__code"),
    HxlColumn("Admin 1", "#adm1+name", "request__admin1_name"),
    HxlColumn("Admin 1 code", "#adm1+code", "request__admin1_code"),
    HxlColumn("Delivering desk", "#org+code", "pledging_desk__code"),
    HxlColumn("Sector", "#sector+code", "sector"),
    HxlColumn("Item", "#item+code", "item"),
    HxlColumn("Unit", "#meta+unit", "unit"),
    HxlColumn("Quantity dispatched", "#value+dispatched", "quantity_accepted"),
    HxlColumn("Quantity received", "#value+received", "quantity_received", _blank),
    HxlColumn("Dispatched", "#date+dispatched", _day("dispatched_at"), _iso),
    HxlColumn("Delivered", "#date+delivered", _day("delivered_at"), _iso),
    HxlColumn("Status", "#status", "status"),
]

SHELTER_COLUMNS = [
    HxlColumn("Shelter", "#loc+name", "name"),
    HxlColumn("Crisis", "#crisis+code", "crisis__reference"),
    HxlColumn("Country code", "#country+code", "country__code"),
    HxlColumn("Admin 1", "#adm1+name", "admin1_name"),
    HxlColumn("Admin 1 code", "#adm1+code", "admin1_code"),
    HxlColumn("Admin 2", "#adm2+name", "admin2_name"),
    HxlColumn("Admin 2 code", "#adm2+code", "admin2_code"),
    HxlColumn("Managing desk", "#org+code", "managing_desk__code"),
    HxlColumn("Latitude", "#geo+lat", "latitude", _blank),
    HxlColumn("Longitude", "#geo+lon", "longitude", _blank),
    HxlColumn("Capacity", "#capacity+ind", "capacity"),
    HxlColumn("Population", "#population+sheltered+ind", "population"),
    HxlColumn("Status", "#status", "status"),
    HxlColumn("Services", "#meta+services", "services", ";".join),
    HxlColumn("Updated", "#date+updated", _day("updated_at"), _iso),
]

DISPLACEMENT_EXPORT_COLUMNS = [
    HxlColumn("Crisis", "#crisis+code", "crisis__reference"),
    *[
        HxlColumn(c.header, c.tag, c.field, _iso if c.field == "reported_on" else None)
        for c in DISPLACEMENT_COLUMNS
    ],
    HxlColumn(
        "Total displaced",
        "#affected+displaced+total+ind",
        ExpressionWrapper(F("idps") + F("refugees"), output_field=BigIntegerField()),
    ),
]


@dataclass(frozen=True)
class Export:
    name: str
    columns: list[HxlColumn]
    prepare: Callable[[QuerySet], QuerySet] = lambda qs: qs


EXPORTS = {
    "requests": Export("requests", REQUEST_COLUMNS),
    "pledges": Export("pledges", PLEDGE_COLUMNS),
    "deliveries": Export(
        "deliveries",
        DELIVERY_COLUMNS,
        lambda qs: qs.filter(
            request__isnull=False,
            status__in=[PledgeStatus.DISPATCHED, PledgeStatus.DELIVERED],
        ),
    ),
    "shelters": Export("shelters", SHELTER_COLUMNS),
    "displacement": Export("displacement", DISPLACEMENT_EXPORT_COLUMNS),
}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a spreadsheet will not run it: text starting like a formula gets a
    leading apostrophe; numbers and other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def hxl_rows(export: Export, queryset: QuerySet) -> Iterable[list]:
    """The header row, the hashtag row, then one row per record: plain values read
    with ``values_list`` (no model instance per row; the joins and the date arithmetic
    done by the database), over a server-side cursor."""
    yield [c.header for c in export.columns]
    yield [c.tag for c in export.columns]
    shows = [c.show for c in export.columns]
    values = export.prepare(queryset).values_list(*(c.source for c in export.columns))
    for record in values.iterator(chunk_size=ROWS_PER_CHUNK):
        yield [
            safe_cell(value if show is None else show(value))
            for value, show in zip(record, shows, strict=True)
        ]


def hxl_csv_chunks(export: Export, queryset: QuerySet) -> Iterable[str]:
    """The HXL CSV as text chunks of ``ROWS_PER_CHUNK`` rows: what a streamed export
    sends, one chunk in memory at a time (the rows come from a server-side cursor)."""
    out = io.StringIO()
    # RFC 4180 line ends: the csv module then quotes a cell holding a carriage return
    # (with "\n" alone it wrote one bare, splitting the row for every reader).
    writer = csv.writer(out, lineterminator="\r\n")
    for count, row in enumerate(hxl_rows(export, queryset), start=1):
        writer.writerow(row)
        if count % ROWS_PER_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue()


def hxl_csv(export: Export, queryset: QuerySet) -> str:
    return "".join(hxl_csv_chunks(export, queryset))
