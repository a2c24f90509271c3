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

from django.db.models import QuerySet

from humanitarian.models import ITEMS, PledgeStatus
from humanitarian.services.displacement import COLUMNS as DISPLACEMENT_COLUMNS


@dataclass(frozen=True)
class HxlColumn:
    header: str
    tag: str
    value: Callable


def _date(value) -> str:
    if value is None:
        return ""
    return value.date().isoformat() if hasattr(value, "date") else value.isoformat()


def _crisis(obj) -> str:
    return obj.crisis.reference


REQUEST_COLUMNS = [
    HxlColumn("Request", "#meta+id", lambda r: r.reference),
    HxlColumn("Crisis", "#crisis+code", _crisis),
    HxlColumn("Country code", "#country+code", lambda r: r.state.code),
    HxlColumn("Admin 1", "#adm1+name", lambda r: r.admin1_name),
    HxlColumn("Admin 1 code", "#adm1+code", lambda r: r.admin1_code),
    HxlColumn("Location", "#loc+name", lambda r: r.location),
    HxlColumn("Requesting desk", "#org+code", lambda r: r.requesting_desk.code),
    HxlColumn("Sector", "#sector+code", lambda r: r.sector),
    HxlColumn("Item", "#item+code", lambda r: r.item),
    HxlColumn("Item name", "#item+name", lambda r: ITEMS[r.item].label),
    HxlColumn("Unit", "#meta+unit", lambda r: r.unit),
    HxlColumn("Quantity requested", "#value+requested", lambda r: r.quantity),
    HxlColumn("Quantity accepted", "#value+accepted", lambda r: r.quantity_accepted),
    HxlColumn("Quantity delivered", "#value+delivered", lambda r: r.quantity_delivered),
    HxlColumn("Needed by", "#date+needed", lambda r: _date(r.needed_by)),
    HxlColumn("Priority", "#meta+priority", lambda r: r.priority),
    HxlColumn("Status", "#status", lambda r: r.status),
    HxlColumn("Date reported", "#date+reported", lambda r: _date(r.opened_at or r.created_at)),
]

PLEDGE_COLUMNS = [
    HxlColumn("Pledge", "#meta+id", lambda p: p.reference),
    HxlColumn("Request", "#meta+request", lambda p: p.request.reference if p.request_id else ""),
    HxlColumn("Crisis", "#crisis+code", _crisis),
    HxlColumn(
        "Recipient country code",
        "#country+code",
        lambda p: p.request.state.code if p.request_id else "",
    ),
    HxlColumn("Pledging desk", "#org+code", lambda p: p.pledging_desk.code),
    HxlColumn("Pledging state", "#meta+donor", lambda p: p.state.code if p.state_id else "RCC"),
    HxlColumn("Sector", "#sector+code", lambda p: p.sector),
    HxlColumn("Item", "#item+code", lambda p: p.item),
    HxlColumn("Unit", "#meta+unit", lambda p: p.unit),
    HxlColumn("Quantity pledged", "#value+pledged", lambda p: p.quantity),
    HxlColumn("Quantity accepted", "#value+accepted", lambda p: p.quantity_accepted),
    HxlColumn("Expected arrival", "#date+eta", lambda p: _date(p.eta)),
    HxlColumn("Status", "#status", lambda p: p.status),
    HxlColumn("Date offered", "#date+reported", lambda p: _date(p.offered_at)),
]

DELIVERY_COLUMNS = [
    HxlColumn("Pledge", "#meta+id", lambda p: p.reference),
    HxlColumn("Request", "#meta+request", lambda p: p.request.reference),
    HxlColumn("Crisis", "#crisis+code", _crisis),
    HxlColumn("Country code", "#country+code", lambda p: p.request.state.code),
    HxlColumn("Admin 1", "#adm1+name", lambda p: p.request.admin1_name),
    HxlColumn("Admin 1 code", "#adm1+code", lambda p: p.request.admin1_code),
    HxlColumn("Delivering desk", "#org+code", lambda p: p.pledging_desk.code),
    HxlColumn("Sector", "#sector+code", lambda p: p.sector),
    HxlColumn("Item", "#item+code", lambda p: p.item),
    HxlColumn("Unit", "#meta+unit", lambda p: p.unit),
    HxlColumn("Quantity dispatched", "#value+dispatched", lambda p: p.quantity_accepted),
    HxlColumn(
        "Quantity received",
        "#value+received",
        lambda p: "" if p.quantity_received is None else p.quantity_received,
    ),
    HxlColumn("Dispatched", "#date+dispatched", lambda p: _date(p.dispatched_at)),
    HxlColumn("Delivered", "#date+delivered", lambda p: _date(p.delivered_at)),
    HxlColumn("Status", "#status", lambda p: p.status),
]

SHELTER_COLUMNS = [
    HxlColumn("Shelter", "#loc+name", lambda s: s.name),
    HxlColumn("Crisis", "#crisis+code", _crisis),
    HxlColumn("Country code", "#country+code", lambda s: s.country.code),
    HxlColumn("Admin 1", "#adm1+name", lambda s: s.admin1_name),
    HxlColumn("Admin 1 code", "#adm1+code", lambda s: s.admin1_code),
    HxlColumn("Admin 2", "#adm2+name", lambda s: s.admin2_name),
    HxlColumn("Admin 2 code", "#adm2+code", lambda s: s.admin2_code),
    HxlColumn("Managing desk", "#org+code", lambda s: s.managing_desk.code),
    HxlColumn("Latitude", "#geo+lat", lambda s: "" if s.latitude is None else s.latitude),
    HxlColumn("Longitude", "#geo+lon", lambda s: "" if s.longitude is None else s.longitude),
    HxlColumn("Capacity", "#capacity+ind", lambda s: s.capacity),
    HxlColumn("Population", "#population+sheltered+ind", lambda s: s.population),
    HxlColumn("Status", "#status", lambda s: s.status),
    HxlColumn("Services", "#meta+services", lambda s: ";".join(s.services)),
    HxlColumn("Updated", "#date+updated", lambda s: _date(s.updated_at)),
]

DISPLACEMENT_EXPORT_COLUMNS = [
    HxlColumn("Crisis", "#crisis+code", _crisis),
    *[
        HxlColumn(
            c.header,
            c.tag,
            lambda d, f=c.field: _date(getattr(d, f)) if f == "reported_on" else getattr(d, f),
        )
        for c in DISPLACEMENT_COLUMNS
    ],
    HxlColumn("Total displaced", "#affected+displaced+total+ind", lambda d: d.total_displaced),
]


@dataclass(frozen=True)
class Export:
    name: str
    columns: list[HxlColumn]
    prepare: Callable[[QuerySet], QuerySet]


EXPORTS = {
    "requests": Export(
        "requests", REQUEST_COLUMNS, lambda qs: qs.select_related("requesting_desk")
    ),
    "pledges": Export("pledges", PLEDGE_COLUMNS, lambda qs: qs),
    "deliveries": Export(
        "deliveries",
        DELIVERY_COLUMNS,
        lambda qs: qs.filter(
            request__isnull=False,
            status__in=[PledgeStatus.DISPATCHED, PledgeStatus.DELIVERED],
        ),
    ),
    "shelters": Export("shelters", SHELTER_COLUMNS, lambda qs: qs),
    "displacement": Export("displacement", DISPLACEMENT_EXPORT_COLUMNS, lambda qs: qs),
}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a spreadsheet will not run it: text starting like a formula gets a
    leading apostrophe; numbers and other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def hxl_rows(export: Export, queryset: QuerySet) -> Iterable[list]:
    yield [c.header for c in export.columns]
    yield [c.tag for c in export.columns]
    for obj in export.prepare(queryset).iterator(chunk_size=500):
        yield [safe_cell(c.value(obj)) for c in export.columns]


#: Rows per chunk of a streamed export (:func:`hxl_csv_chunks`).
ROWS_PER_CHUNK = 500


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
