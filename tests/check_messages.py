"""Fail when the Indonesian catalogue has untranslated or fuzzy entries, or when the
committed .mo file does not match the .po file. CI runs makemessages first, so a new
user-facing string without a translation fails CI."""

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "id" / "LC_MESSAGES"


def problems() -> list[str]:
    po = polib.pofile(str(LOCALE / "django.po"))
    found = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
    found += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(LOCALE / "django.mo"))}
    for e in po.translated_entries():
        got = compiled.get((e.msgctxt, e.msgid))
        if (
            got is None
            or (e.msgstr or "") != (got[0] or "")
            or (
                e.msgstr_plural
                and {int(k): v for k, v in e.msgstr_plural.items()} != {int(k): v for k, v in got[1].items()}
            )
        ):
            found.append(f"not compiled (run make messages): {e.msgid!r}")
    return found


if __name__ == "__main__":
    issues = problems()
    for line in issues:
        print(line)
    print(f"{len(issues)} message catalogue problem(s)")
    sys.exit(1 if issues else 0)
