"""Keep the sentence catalogues in step with the source (Babel, from the dev extra).

The source language is Chinese: every ``say("…", lang)``, ``say_in("context", "…", lang)``,
``N_("…")`` and ``N_in("context", "…")`` in ``kiosk/`` is a message id.
``kiosk/locale/en/LC_MESSAGES/kiosk.po`` holds their English; the kiosk reads the compiled
``kiosk.mo`` beside it (committed, so a kiosk needs no compiler). The hub's console is
the second catalogue, ``hub``: ``say``/``N_`` in ``hub/console/*.py`` and ``{{ _("…") }}``
in its templates, with ``hub/locale/en/LC_MESSAGES/hub.po``.

Usage, from the repository's root::

    .venv/bin/python scripts/catalogue.py          # add new ids to the .po, drop unused ones,
                                                   # compile the .mo, list what lacks English
    .venv/bin/python scripts/catalogue.py --check  # change nothing; exit 1 if out of step

``tests/test_catalogue.py`` runs the same check.
"""

from __future__ import annotations

import argparse
import datetime
import gettext
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("en",)
KEYWORDS = {
    "say": None,
    "N_": None,
    "say_in": ((1, "c"), 2),
    "N_in": ((1, "c"), 2),
    "_": None,
}


@dataclass(frozen=True)
class Domain:
    """One catalogue: where its sentences are written and where its .po and .mo live."""

    name: str
    source_dir: Path
    method_map: tuple[tuple[str, str], ...]

    @property
    def locale_dir(self) -> Path:
        return self.source_dir / "locale"


KIOSK = Domain("kiosk", ROOT / "kiosk", (("**.py", "python"),))
HUB = Domain(
    "hub",
    ROOT / "hub",
    (("console/**.py", "python"), ("console/templates/**.html", "jinja2.ext:babel_extract")),
)
DOMAINS = (KIOSK, HUB)

Key = tuple[str | None, str]  # (context, message id)

STAMP = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
"""A fixed date in the header, so the .po changes only when a sentence does (git has the dates)."""


def po_path(lang: str, domain: Domain = KIOSK) -> Path:
    return domain.locale_dir / lang / "LC_MESSAGES" / f"{domain.name}.po"


def mo_path(lang: str, domain: Domain = KIOSK) -> Path:
    return po_path(lang, domain).with_suffix(".mo")


def extract(domain: Domain = KIOSK) -> Catalog:
    """Every message id written in the domain's source, with where it is used."""
    template = Catalog(project="timebank-kiosk", creation_date=STAMP, fuzzy=False)
    found = extract_from_dir(
        str(domain.source_dir),
        method_map=list(domain.method_map),
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    )
    where = domain.source_dir.name
    for filename, lineno, message, comments, context in found:
        if not isinstance(message, str):
            raise ValueError(f"{where}/{filename}:{lineno}: plural forms are not used here")
        template.add(
            message, None, [(f"{where}/{filename}", lineno)], auto_comments=comments, context=context
        )
    return template


def read(lang: str, domain: Domain = KIOSK) -> Catalog:
    path = po_path(lang, domain)
    if not path.exists():
        return Catalog(locale=lang, domain=domain.name)
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=domain.name)


def keys(catalog: Iterable[object]) -> set[Key]:
    out: set[Key] = set()
    for message in catalog:
        msgid = getattr(message, "id", "")
        if msgid:
            out.add((getattr(message, "context", None), str(msgid)))
    return out


def updated(lang: str, template: Catalog, domain: Domain = KIOSK) -> Catalog:
    """The language's catalogue with the source's ids: new ones empty, unused ones gone."""
    catalog = read(lang, domain)
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.project, catalog.version = "timebank-kiosk", "1"
    catalog.revision_date = STAMP
    catalog.last_translator = catalog.language_team = "time bank kiosk maintainers"
    catalog.msgid_bugs_address = ""
    catalog.header_comment = (
        "# English for the time bank kiosk. Message ids are the Chinese source sentences.\n"
        "# Edit msgstr only; then run: .venv/bin/python scripts/catalogue.py"
    )
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)
    return buf.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def translations(mo: bytes) -> dict[Key, str]:
    """What a compiled catalogue says, as the kiosk reads it (gettext)."""
    raw = gettext.GNUTranslations(io.BytesIO(mo))._catalog  # type: ignore[attr-defined]
    out: dict[Key, str] = {}
    for k, v in raw.items():
        if not isinstance(k, str) or not k:
            continue  # the header, and plural entries (none here)
        context, sep, msgid = k.partition("\x04")
        out[(context, msgid) if sep else (None, k)] = v
    return out


def untranslated(catalog: Catalog) -> list[Key]:
    return sorted(
        ((m.context, str(m.id)) for m in catalog if m.id and (not m.string or m.fuzzy)),
        key=lambda k: (k[0] or "", k[1]),
    )


def problems(lang: str, template: Catalog | None = None, domain: Domain = KIOSK) -> list[str]:
    """Why the committed catalogue is out of step with the source (empty when it is not)."""
    template = template if template is not None else extract(domain)
    out: list[str] = []
    catalog = read(lang, domain)
    source, po = keys(template), keys(catalog)
    po_name = f"{lang}/{domain.name}.po"
    out += [f"not in {po_name}: {k}" for k in sorted(source - po, key=str)]
    out += [f"in {po_name} but not in the source: {k}" for k in sorted(po - source, key=str)]
    out += [f"no {lang} translation: {k}" for k in untranslated(catalog)]
    if not out and po_bytes(updated(lang, template, domain)) != po_path(lang, domain).read_bytes():
        out.append(f"{po_name} is not as the script writes it (run scripts/catalogue.py)")
    mo = mo_path(lang, domain)
    if not mo.exists() or translations(mo.read_bytes()) != translations(mo_bytes(catalog)):
        out.append(f"{lang}/{domain.name}.mo is not compiled from {po_name} (run scripts/catalogue.py)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of step")
    ns = parser.parse_args(argv)
    status = 0
    for domain in DOMAINS:
        template = extract(domain)
        for lang in LANGUAGES:
            if ns.check:
                found = problems(lang, template, domain)
                for line in found:
                    print(line)
                status |= bool(found)
                continue
            catalog = updated(lang, template, domain)
            po, mo = po_path(lang, domain), mo_path(lang, domain)
            po.parent.mkdir(parents=True, exist_ok=True)
            po.write_bytes(po_bytes(catalog))
            mo.write_bytes(mo_bytes(catalog))
            missing = untranslated(catalog)
            for context, msgid in missing:
                print(f"needs {lang}: {msgid}" + (f"  (context {context!r})" if context else ""))
            print(f"{po.relative_to(ROOT)}: {len(catalog)} sentences, {len(missing)} without {lang}")
            status |= bool(missing)
    return status


if __name__ == "__main__":
    sys.exit(main())
