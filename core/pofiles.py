"""Gettext catalogues without GNU gettext: read a ``.po`` file, write its ``.mo``.

``make venv`` / ``make run`` / ``make test`` and the Docker image compile
``locale/<lang>/LC_MESSAGES/django.po`` with this (``python -m core.pofiles``), so running
the service needs only Python; ``manage.py compilemessages`` (msgfmt) gives the same files.
Fuzzy entries are left out of the ``.mo``, as msgfmt does. ``scripts/i18n_check.py`` uses
the reader to find untranslated and fuzzy entries.
"""

from __future__ import annotations

import ast
import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # plural index -> text (0 alone)
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())


def _unquote(text: str, path: Path, number: int) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"{path}:{number}: expected a quoted string, got {text!r}")
    # A PO string is a C string; Python's literal syntax reads the escapes we use.
    return ast.literal_eval(text)


def read_po(path: str | Path) -> list[Entry]:
    """The entries of a ``.po`` file, header (``msgid ""``) included, in file order."""
    path = Path(path)
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None  # which field a continuation line extends
    flags: set[str] = set()

    def finish():
        nonlocal entry
        if entry is not None:
            entries.append(entry)
        entry = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#,"):
            finish()
            flags = {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith(("#", "|")):  # comments; "#~|" an obsolete entry's previous id
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgctxt" or (keyword == "msgid" and (entry is None or entry.msgstr)):
            finish()
            entry = Entry(msgid="", flags=flags, obsolete=obsolete, line=number)
            flags = set()
        if entry is None:
            if line.startswith('"'):
                raise ValueError(f"{path}:{number}: a continuation line outside an entry")
            entry = Entry(msgid="", flags=flags, obsolete=obsolete, line=number)
            flags = set()
        if keyword == "msgctxt":
            entry.msgctxt, target = _unquote(rest, path, number), ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, target = _unquote(rest, path, number), ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.msgid_plural, target = _unquote(rest, path, number), ("msgid_plural", 0)
        elif keyword == "msgstr":
            entry.msgstr[0], target = _unquote(rest, path, number), ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[7:-1])
            entry.msgstr[index], target = _unquote(rest, path, number), ("msgstr", index)
        elif line.startswith('"') and target is not None:
            more = _unquote(line, path, number)
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += more
            else:
                setattr(entry, name, (getattr(entry, name) or "") + more)
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return entries


def write_mo(entries: list[Entry], path: str | Path) -> int:
    """Write the GNU ``.mo`` of ``entries`` (translated, not fuzzy, not obsolete); returns
    how many messages it holds (the header included)."""
    messages: dict[bytes, bytes] = {}
    for e in entries:
        if e.obsolete or (e.fuzzy and e.msgid) or not e.translated:
            continue
        key = e.msgid if e.msgid_plural is None else f"{e.msgid}\0{e.msgid_plural}"
        if e.msgctxt is not None:
            key = f"{e.msgctxt}\x04{key}"
        value = "\0".join(e.msgstr[i] for i in sorted(e.msgstr))
        messages[key.encode("utf-8")] = value.encode("utf-8")
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    count = len(keys)
    key_start = 7 * 4 + 16 * count
    value_start = key_start + len(ids)
    table_k, table_v = [], []
    for id_off, id_len, str_off, str_len in offsets:
        table_k += [id_len, key_start + id_off]
        table_v += [str_len, value_start + str_off]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, count, 7 * 4, 7 * 4 + count * 8, 0, 0)
    data = header + struct.pack(f"{len(table_k)}i", *table_k)
    data += struct.pack(f"{len(table_v)}i", *table_v) + ids + strs
    # Written aside, then renamed: a server reading the catalogue never sees half of it.
    part = Path(f"{path}.part")
    part.write_bytes(data)
    os.replace(part, path)
    return count


def compile_all(root: str | Path) -> list[Path]:
    """Compile every ``<root>/<lang>/LC_MESSAGES/*.po`` next to itself; the ``.mo`` paths."""
    written = []
    for po in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        write_mo(read_po(po), mo)
        written.append(mo)
    return written


if __name__ == "__main__":  # python -m core.pofiles [locale]
    for mo in compile_all(sys.argv[1] if len(sys.argv) > 1 else "locale"):
        print(f"compiled {mo}")
