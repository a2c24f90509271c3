"""What a file is, judged by its content (magic bytes), never by its name or the type the
client claims. Only the types below are taken; anything else is refused.

``filetype`` (pure Python, no libmagic) reads the first bytes. Office documents are zip
files: ``filetype`` looks inside for the part that names the format. Text formats (HTML,
SVG, CSV, plain text) have no magic number and are refused, so a page a browser would run
cannot be stored, whatever it is called.
"""

from __future__ import annotations

import filetype

#: Bytes read to judge a file (``filetype`` reads at most 8 KiB).
HEAD_BYTES = 8192

#: Accepted types: MIME type -> what people call it.
ALLOWED = {
    "image/jpeg": "JPEG photo",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/pdf": "PDF document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
}

#: What a text file that looks like markup starts with (named in the refusal).
_MARKUP = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<head")


def detect(head: bytes) -> str | None:
    """The MIME type of a file whose first bytes are ``head``, if it is one we take."""
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED:
        return None
    return kind.mime


def looks_like_markup(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_MARKUP)


def describe_allowed() -> str:
    return ", ".join(sorted(set(ALLOWED.values())))
