"""Text that may reach XML: one check, used by serializers, services and console forms.

XML 1.0 cannot carry every character a JSON string or a form field can: the C0 control
characters other than tab, newline and carriage return, the non-characters U+FFFE and
U+FFFF, and lone surrogates (halves of a UTF-16 pair without the other half). Stored,
such a character breaks every later CAP alert that quotes the text, so it is refused at
input with a 400 naming the field (``details.fields``), never stored and rendered later.

PostgreSQL cannot store NUL either; it is one of the C0 characters refused here.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.errors import InvalidInput

#: Characters XML 1.0 cannot carry (section 2.2 "Char"), lone surrogates included.
NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def bad_character(text: str) -> str | None:
    """The first character of ``text`` that XML cannot carry, as ``U+000B``; else None."""
    found = NOT_XML_CHAR.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def problem_of(text: str) -> str | None:
    """A plain sentence saying what is wrong with ``text``, or None if it is fine."""
    code = bad_character(text) if isinstance(text, str) else None
    if code is None:
        return None
    return f"contains the control character {code}, which cannot be stored or sent; remove it"


def require_xml_safe(**fields: str | None) -> None:
    """Raise InvalidInput (400, ``invalid_text``) naming every field with a bad character.

    ``require_xml_safe(title=title, description=description)``; None and "" pass.
    """
    problems = {name: [p] for name, value in fields.items() if value and (p := problem_of(value))}
    if problems:
        first = next(iter(problems))
        raise InvalidInput(
            _("%(first)s: %(problem)s.") % {"first": first, "problem": problems[first][0]},
            code="invalid_text",
            details={"fields": problems},
        )


def sanitize_for_xml(text: str) -> str:
    """``text`` with every character XML cannot carry replaced by U+FFFD.

    For rendering only (text stored before input was checked); input is refused instead.
    """
    return NOT_XML_CHAR.sub("\ufffd", text)


def validate_xml_safe(value) -> None:
    """A Django / DRF field validator: ``validators=[validate_xml_safe]``."""
    problem = problem_of(value)
    if problem:
        raise ValidationError(
            _("This text %(problem)s.") % {"problem": problem}, code="invalid_text"
        )
