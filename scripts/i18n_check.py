"""Are the console, e-mails and SMS texts fully translated? (docs/console.md, "Languages")

    python scripts/i18n_check.py             # report; exit 1 on any problem
    python scripts/i18n_check.py --update    # also write the refreshed .po files to locale/

Three checks, each also a test (tests/core/test_i18n.py):

1. **Unmarked template text**: every template under ``<app>/templates/`` is read with
   Django's template lexer; visible text and the attributes people read (``title``,
   ``placeholder``, ``aria-label``, ``alt``, ``label``, a button input's ``value``) outside
   ``{% translate %}`` / ``{% blocktranslate %}`` is listed. Variables, tags, symbols,
   numbers and a few names that are the same in every language (``ALLOWED_WORDS``) are
   not text.
2. **New or gone msgids**: ``manage.py makemessages`` runs on a copy of the source in a
   temporary folder (GNU gettext's xgettext and msgmerge, as Django needs) and its
   catalogues are compared with ``locale/``: a msgid the code has and the catalogue lacks
   is *missing*, one the catalogue has and the code no longer uses is *obsolete*.
3. **Untranslated or fuzzy entries** in each language's ``django.po``.
4. **English in the console's scripts**: an app's ``static/**/*.js`` writes no sentence of
   its own (a string literal that reads like one: capitalised words, or words ending in
   ``.``, ``…``, ``:``, ``?``, ``!``); it says its words with ``say("key")`` from the words
   the page renders (``JS_WORDS``), and every literal key it says is among them.
5. **Unmarked refusals**: a domain error (``core.errors.DomainError``), a validation
   error or a DRF parse error raised in a service or selector (``<app>/services.py``,
   ``<app>/services/*.py``, ``<app>/selectors.py``, ``<app>/api.py``, ``<app>/api/*.py``)
   or in a reader of uploaded files (``PARSER_MODULES``: CAP, STIX, EDXL-RM, iCal,
   protocol and scenario files, the API's body parsers) with a bare string literal or
   f-string as its message, not ``gettext``'s. A helper that builds the refusal (a
   function annotated to return one, such as ``cap._bad(element, message)``) counts too:
   its ``message``/``problem`` argument must be marked.

``--update`` copies the refreshed catalogues (new msgids with empty msgstr, msgmerge's
guesses marked fuzzy, gone ones dropped) over ``locale/``: translate what it lists, then
run it again until it says nothing.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import re
import shutil
import subprocess  # nosec B404  # our own manage.py, a fixed argument list
import sys
import tempfile
import tomllib
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.pofiles import read_po  # noqa: E402

LANGUAGES = ["id", "th", "vi"]
# Folders copied for makemessages: the project's packages, as pyproject's layers list them
# (so a new app is checked the day it is added).
SOURCE_DIRS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
# Names and codes that are the same in every language (formats, standards, units), and
# "EXERCISE", drill traffic's mark: the radio convention, said in English everywhere.
ALLOWED_WORDS = {"UTC", "TLP", "HXL", "CSV", "JSON", "YAML", "PDF", "TOTP", "CAP", "XML", "OK",
                 "HTTP", "EXERCISE"}  # fmt: skip
WORD = re.compile(r"[^\W\d_]+")
HOLE = "\x01"  # where a variable or a translated string was


def template_files() -> list[Path]:
    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).glob("templates/**/*")):
            if path.suffix in {".html", ".txt"} and path.is_file():
                found.append(path)
    return found


def _is_text(value: str) -> bool:
    words = [w for w in WORD.findall(value.replace(HOLE, " ")) if len(w) > 1]
    return any(w not in ALLOWED_WORDS for w in words)


def _skeleton(source: str) -> str:
    """The template with every variable and translated string replaced by HOLE and every
    other tag by a space: what is left is text nobody marked for translation."""
    from django.template.base import Lexer, TokenType

    parts = []
    inside_blocktranslate = inside_comment = False
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.COMMENT:
            continue
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name in {"blocktranslate", "blocktrans"}:
                inside_blocktranslate = True
                parts.append(HOLE)
            elif name in {"endblocktranslate", "endblocktrans"}:
                inside_blocktranslate = False
            elif name == "comment":
                inside_comment = True
            elif name == "endcomment":
                inside_comment = False
            elif not inside_blocktranslate and not inside_comment:
                parts.append(HOLE if name in {"translate", "trans"} else " ")
            continue
        if inside_blocktranslate or inside_comment:
            continue
        parts.append(HOLE if token.token_type == TokenType.VAR else token.contents)
    return "".join(parts)


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.raw = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self.raw += 1
        values = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in {"submit", "button"}
            )
            if readable and value and _is_text(value):
                self.found.append(f'{name}="{value.replace(HOLE, "…")}"')

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self.raw:
            self.raw -= 1

    def handle_data(self, data):
        if not self.raw and _is_text(data):
            self.found.append(" ".join(data.replace(HOLE, "…").split()))


def unmarked_text(path: Path) -> list[str]:
    """The pieces of ``path`` that people read and nobody marked for translation."""
    skeleton = _skeleton(path.read_text(encoding="utf-8"))
    if path.suffix == ".txt":
        return [" ".join(skeleton.replace(HOLE, "…").split())] if _is_text(skeleton) else []
    finder = _Finder()
    finder.feed(skeleton)
    finder.close()
    return finder.found


def template_problems() -> dict[str, list[str]]:
    problems = {}
    for path in template_files():
        found = unmarked_text(path)
        if found:
            problems[str(path.relative_to(ROOT))] = found
    return problems


# --- the console's scripts --------------------------------------------------------------

#: Each script that says words (``say("key")``) and the function (dotted path) giving them
#: in the reader's language; the page renders them as JSON for the script (docs/console.md).
JS_WORDS = {
    "core/static/console/console.js": "core.templatetags.console.console_words",
    "hotline/static/hotline/console/line.js": "hotline.console.views.line_strings",
}
SAY = re.compile(r"""\bsay\(\s*["']([^"']+)["']""")
JS_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'")
#: A literal people would read: two or more words, capitalised or ending as a sentence.
SENTENCE = re.compile(r"^[A-Z][^\W\d_]+(?: [^\W\d_]+)+|[^\W\d_]{2,} [^\W\d_]{2,}.*[.…:?!]$")


def script_files() -> list[Path]:
    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).glob("static/**/*.js")):
            if "vendor" not in path.parts and path.is_file():
                found.append(path)
    return found


def _without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), source, flags=re.S)
    return "\n".join(re.sub(r"(^|[^:\\])//.*$", r"\1", line) for line in source.split("\n"))


def script_text_problems(source: str, words: set[str] | None) -> list[str]:
    """Sentences ``source`` writes itself, and keys it says that ``words`` lacks (``None``:
    the script has no words function in :data:`JS_WORDS`)."""
    source = _without_comments(source)
    found = []
    for number, line in enumerate(source.split("\n"), 1):
        for match in JS_STRING.finditer(line):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if SENTENCE.search(text):
                found.append(f"line {number}: not marked for translation: {text!r}")
    keys = sorted(set(SAY.findall(source)))
    if keys and words is None:
        found.append("says words (say) but has no words function in JS_WORDS")
    found += [
        f"say({key!r}): not among the page's words" for key in keys if key not in (words or ())
    ]
    return found


def script_problems() -> dict[str, list[str]]:
    from django.utils.module_loading import import_string

    problems = {}
    for path in script_files():
        name = str(path.relative_to(ROOT))
        words = set(import_string(JS_WORDS[name])()) if name in JS_WORDS else None
        found = script_text_problems(path.read_text(encoding="utf-8"), words)
        if found:
            problems[name] = found
    return problems


# --- refusals of the services ------------------------------------------------------------

#: Readers of files and bodies people upload: their refusals are read in the console and
#: the API as much as the services' are.
PARSER_MODULES = [
    "core/parsers.py",
    "crisis/cap.py",
    "crisis/protocol_io.py",
    "cyber/stix.py",
    "exercises/scenario.py",
    "humanitarian/edxl_rm.py",
    "rosters/ical.py",
    "rosters/rules.py",
]
#: The parameters of a refusal-building helper that carry the words people read.
MESSAGE_PARAMETERS = {"message", "problem"}


def error_modules() -> list[Path]:
    found = [ROOT / name for name in PARSER_MODULES]
    for folder in SOURCE_DIRS:
        base = ROOT / folder
        found += [
            p for p in (base / "services.py", base / "selectors.py", base / "api.py") if p.is_file()
        ]
        found += sorted((base / "services").glob("*.py")) + sorted((base / "api").glob("*.py"))
    return found


def _is_literal(node) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_literal(node.left) or _is_literal(node.right)
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _resolve(module, dotted: str):
    value = module
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def unmarked_refusals(source: str, module) -> list[str]:
    """The refusals ``source`` (the text of ``module``) raises with a message nobody
    marked for translation."""
    from django.core.exceptions import ValidationError
    from rest_framework.exceptions import ParseError
    from rest_framework.exceptions import ValidationError as DRFValidationError

    from core.errors import DomainError

    refusals = (DomainError, ValidationError, DRFValidationError, ParseError)
    found = []
    for node in ast.walk(ast.parse(source)):
        call = node.exc if isinstance(node, ast.Raise) else None
        if not isinstance(call, ast.Call):
            continue
        raised = _resolve(module, ast.unparse(call.func))
        if isinstance(raised, type) and issubclass(raised, refusals):
            words = call.args[:1]
        elif _builds_refusal(raised, refusals):
            words = _message_arguments(raised, call)
        else:
            continue
        for arg in words:
            if _is_literal(arg):
                text = " ".join(ast.unparse(arg).split())[:80]
                found.append(
                    (node.lineno, f"line {node.lineno}: refusal not marked for translation: {text}")
                )
    return [text for _line, text in sorted(found)]


def _builds_refusal(function, refusals) -> bool:
    """Is ``function`` a helper annotated to return a refusal (``-> InvalidInput``)?"""
    import typing

    if not callable(function) or isinstance(function, type):
        return False
    try:
        returned = typing.get_type_hints(function).get("return")
    except Exception:  # an annotation that does not resolve: not a helper we can read
        return False
    return isinstance(returned, type) and issubclass(returned, refusals)


def _message_arguments(function, call: ast.Call) -> list:
    """The arguments of ``call`` that fill ``function``'s message parameters."""
    import inspect

    names = list(inspect.signature(function).parameters)
    found = [
        arg
        for index, arg in enumerate(call.args)
        if index < len(names) and names[index] in MESSAGE_PARAMETERS
    ]
    return found + [k.value for k in call.keywords if k.arg in MESSAGE_PARAMETERS]


def unmarked_errors() -> dict[str, list[str]]:
    """Per service or selector module: :func:`unmarked_refusals`."""
    problems = {}
    for path in error_modules():
        name = str(path.relative_to(ROOT))
        module = importlib.import_module(name.removesuffix(".py").replace("/", "."))
        found = unmarked_refusals(path.read_text(encoding="utf-8"), module)
        if found:
            problems[name] = found
    return problems


def refreshed_catalogues(workdir: Path) -> Path:
    """Run makemessages on a copy of the source in ``workdir``; its locale folder."""
    for folder in SOURCE_DIRS:
        shutil.copytree(
            ROOT / folder,
            workdir / folder,
            ignore=shutil.ignore_patterns("__pycache__", "static", "migrations", "*.mo"),
        )
    shutil.copy(ROOT / "manage.py", workdir / "manage.py")
    shutil.copytree(ROOT / "locale", workdir / "locale", ignore=shutil.ignore_patterns("*.mo"))
    env = {**os.environ, "PYTHONPATH": str(workdir), "DEBUG": "true"}
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'unused.sqlite3'}")
    args = [sys.executable, "manage.py", "makemessages", "--add-location=file", "--no-obsolete"]
    for code in LANGUAGES:
        args += ["-l", code]
    done = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True)  # nosec B603
    if done.returncode:
        raise RuntimeError(f"makemessages failed:\n{done.stdout}\n{done.stderr}")
    return workdir / "locale"


def _ids(entries) -> set[str]:
    return {e.msgid for e in entries if e.msgid and not e.obsolete}


def catalogue_problems(locale: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Per language: msgids missing from ``locale/``, obsolete there, and untranslated or
    fuzzy in ``locale/``'s own catalogue. ``locale`` = refreshed catalogues to compare
    with (made here when not given)."""
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = locale or refreshed_catalogues(Path(tmp))
        for code in LANGUAGES:
            po = ROOT / "locale" / code / "LC_MESSAGES" / "django.po"
            ours = read_po(po) if po.exists() else []
            fresh = read_po(fresh_root / code / "LC_MESSAGES" / "django.po")
            live = [e for e in ours if e.msgid and not e.obsolete]
            report[code] = {
                "missing": sorted(_ids(fresh) - _ids(ours)),
                "obsolete": sorted(_ids(ours) - _ids(fresh)),
                "untranslated": [e.msgid for e in live if not e.translated],
                "fuzzy": [e.msgid for e in live if e.fuzzy],
            }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true", help="write refreshed .po files")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    failed = False
    for path, found in template_problems().items():
        failed = True
        for text in found:
            print(f"{path}: not marked for translation: {text}")
    for path, found in {**script_problems(), **unmarked_errors()}.items():
        failed = True
        for text in found:
            print(f"{path}: {text}")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = refreshed_catalogues(Path(tmp))
        report = catalogue_problems(fresh)
        if options.update:
            for code in LANGUAGES:
                name = Path(code) / "LC_MESSAGES" / "django.po"
                (ROOT / "locale" / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(fresh / name, ROOT / "locale" / name)
                print(f"updated locale/{name}")
            report = catalogue_problems(fresh)
    for code, problems in report.items():
        for kind, ids in problems.items():
            for msgid in ids:
                failed = True
                print(f"{code}: {kind}: {msgid!r}")
    if not failed:
        print("i18n: every template string is marked and every language is complete.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
