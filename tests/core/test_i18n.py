"""Every template string people read is marked for translation, every language is
complete and current, and our .mo compiler reads and writes what gettext expects
(scripts/i18n_check.py does the work; docs/console.md, "Languages")."""

from __future__ import annotations

import gettext
import importlib.util
from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.pofiles import read_po, write_mo

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["id", "th", "vi"]


def _checker():
    spec = importlib.util.spec_from_file_location("i18n_check", ROOT / "scripts/i18n_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_template_string_people_read_is_marked_for_translation():
    problems = _checker().template_problems()
    assert problems == {}, "\n".join(
        f"{path}: {text}" for path, found in problems.items() for text in found
    )


def test_the_checker_finds_unmarked_text_and_attributes(tmp_path):
    template = tmp_path / "page.html"
    template.write_text(
        '{% load i18n %}<p title="Open the map">{% translate "Fine" %} Not fine {{ x }}</p>'
        '<input type="submit" value="Send now"><b>{% blocktranslate %}ok {{ y }}'
        '{% endblocktranslate %} · 12 % TLP</b><span aria-label="{{ n }} unread"></span>'
        "<style>p { color: red }</style>{# a comment #}<i>L{{ level }}</i>"
    )
    assert _checker().unmarked_text(template) == [
        'title="Open the map"',
        "… Not fine …",
        'value="Send now"',
        'aria-label="… unread"',
    ]


def test_the_console_scripts_write_no_english_of_their_own():
    problems = _checker().script_problems()
    assert problems == {}, "\n".join(
        f"{path}: {text}" for path, found in problems.items() for text in found
    )


def test_the_checker_finds_sentences_and_unknown_words_in_a_script():
    source = (
        'el.textContent = "Sending over the web…";  // "A comment is fine."\n'
        '/* "Nor here." */ b.className = "badge ok acked"; say("sent"); say("gone");\n'
        "status.textContent = 'Not sent: ' + reason; x = 'use strict';\n"
    )
    assert _checker().script_text_problems(source, {"sent"}) == [
        "line 1: not marked for translation: 'Sending over the web…'",
        "line 3: not marked for translation: 'Not sent: '",
        "say('gone'): not among the page's words",
    ]


def test_every_refusal_of_the_services_is_marked_for_translation():
    problems = _checker().unmarked_errors()
    assert problems == {}, "\n".join(
        f"{path}: {text}" for path, found in problems.items() for text in found
    )


def test_the_checker_finds_refusals_raised_with_bare_text():
    import types

    from core.errors import Conflict, InvalidInput

    module = types.SimpleNamespace(
        InvalidInput=InvalidInput, errors=types.SimpleNamespace(Conflict=Conflict)
    )
    source = (
        "def f(x):\n"
        "    if x: raise InvalidInput(_('Fine.'))\n"
        "    if x > 1: raise InvalidInput(f'Bad {x}.', code='bad')\n"
        "    if x > 2: raise errors.Conflict('Taken.')\n"
        "    raise RuntimeError('internal, not for people')\n"
    )
    assert _checker().unmarked_refusals(source, module) == [
        "line 3: refusal not marked for translation: f'Bad {x}.'",
        "line 4: refusal not marked for translation: 'Taken.'",
    ]


def _bad(element: str, message: str) -> InvalidInput:
    """A helper that builds a refusal, as the parsers have (``crisis.cap._bad``)."""
    return InvalidInput(message, details={"element": element})


def test_the_checker_finds_bare_text_given_to_a_helper_that_builds_a_refusal():
    import types

    module = types.SimpleNamespace(_bad=_bad)
    source = (
        "def f(x):\n"
        "    if x: raise _bad('alert', _('the body is empty.'))\n"
        "    if x > 1: raise _bad('alert/sent', f'<sent> is {x!r}.')\n"
        "    raise _bad(f'alert/{x}', message='Too long.')\n"
    )
    assert _checker().unmarked_refusals(source, module) == [
        "line 3: refusal not marked for translation: f'<sent> is {x!r}.'",
        "line 4: refusal not marked for translation: 'Too long.'",
    ]


def test_the_upload_readers_are_among_the_checked_modules():
    checked = {str(p.relative_to(ROOT)) for p in _checker().error_modules()}
    assert {"crisis/cap.py", "cyber/stix.py", "humanitarian/edxl_rm.py", "rosters/ical.py",
            "crisis/protocol_io.py"} <= checked  # fmt: skip


def test_id_th_vi_are_complete_and_makemessages_would_add_nothing():
    report = _checker().catalogue_problems()
    assert set(report) == set(LANGUAGES)
    for code, problems in report.items():
        assert problems == {"missing": [], "obsolete": [], "untranslated": [], "fuzzy": []}, code


@pytest.mark.parametrize("code", LANGUAGES)
def test_each_catalogue_compiles_to_what_gettext_reads(code, tmp_path):
    entries = read_po(ROOT / "locale" / code / "LC_MESSAGES" / "django.po")
    write_mo(entries, tmp_path / "django.mo")
    with open(tmp_path / "django.mo", "rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert catalogue.info()["language"] == code
    for e in entries:
        if not e.msgid:
            continue
        if e.msgid_plural is not None:
            got = catalogue.ngettext(e.msgid, e.msgid_plural, 1)
        elif e.msgctxt is not None:
            got = catalogue.pgettext(e.msgctxt, e.msgid)
        else:
            got = catalogue.gettext(e.msgid)
        assert got == e.msgstr[0], e.msgid
        # Placeholders survive translation (a missing one would raise when formatted). A
        # one-form language's plural entry follows the English plural ("%(count)d drills").
        if e.msgid_plural is not None:
            allowed = set(_placeholders(e.msgid)) | set(_placeholders(e.msgid_plural))
            assert set(_placeholders(got)) <= allowed, e.msgid
        else:
            assert sorted(_placeholders(got)) == sorted(_placeholders(e.msgid)), e.msgid


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\(\w+\)[sdr]|%%", text)


def test_fuzzy_entries_are_left_out_like_msgfmt_does(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy\nmsgid "Guess"\nmsgstr "Tebakan"\n\n'
        'msgid "Line one\\n"\n"and two"\nmsgstr "Baris \\"satu\\"\\n"\n"dan dua"\n',
        encoding="utf-8",
    )
    write_mo(read_po(po), tmp_path / "x.mo")
    with open(tmp_path / "x.mo", "rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert catalogue.gettext("Guess") == "Guess"
    assert catalogue.gettext("Line one\nand two") == 'Baris "satu"\ndan dua'
