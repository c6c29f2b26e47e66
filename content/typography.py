"""Typography rules per language, applied by rule rather than by hand.

French puts a non-breaking space (U+00A0) before : ; ? and !. A language without rules
here (English, Dutch) is left as it is. The rules run on the French catalogue and the
shipped content (`make typography`, also run by `make messages`), on every document staff
save, and a test fails on any ordinary space left before those marks.

    python -m content.typography service/translations content/seed
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NBSP = "\u00a0"
# An ordinary space (or several) just before : ; ? ! (a thin or non-breaking one is kept).
_SPACE_BEFORE_MARK = re.compile(r" +([:;?!])")
# Already glued to the word (no space): "Attention: " is left for a person to decide,
# since "18:00" and "https://" must stay as they are.


def french(text: str) -> str:
    return _SPACE_BEFORE_MARK.sub(NBSP + r"\1", text)


RULES = {"fr": french}


def typeset(text: str, locale: str) -> str:
    rule = RULES.get(locale)
    return rule(text) if rule else text


def ordinary_spaces_before_marks(text: str, locale: str) -> list[str]:
    """The places a rule would change, with a little context, for a test to list."""
    if locale not in RULES:
        return []
    return [text[max(match.start() - 20, 0):match.end()] for match in _SPACE_BEFORE_MARK.finditer(text)]


def typeset_document(value, locale: str | None = None):
    """Every text below a key naming a language with rules ("fr") is typeset; keys and
    other languages are left alone. Works for every content kind (modules, pages,
    assessments, resources), which all keep their texts under language keys."""
    if isinstance(value, str):
        return typeset(value, locale) if locale else value
    if isinstance(value, list):
        return [typeset_document(item, locale) for item in value]
    if isinstance(value, dict):
        return {key: typeset_document(item, key if key in RULES else locale)
                if key not in ("slug", "kind", "id", "scale") else item
                for key, item in value.items()}
    return value


# Files -----------------------------------------------------------------------------------


def typeset_catalogue(path: Path, locale: str) -> bool:
    """The msgstr of a .po file, written back exactly as pybabel writes it."""
    from babel.messages.pofile import read_po, write_po

    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    changed = False
    for message in catalogue:
        if not message.id or not message.string:
            continue
        if isinstance(message.string, str):
            new = typeset(message.string, locale)
        else:
            new = tuple(typeset(string, locale) for string in message.string)
        if new != message.string:
            message.string, changed = new, True
    if changed:
        with path.open("wb") as handle:
            write_po(handle, catalogue, width=76, sort_output=False, omit_header=False)
    return changed


_LANGUAGE_VALUE = re.compile(r"^(?P<key>[a-z]{2}) = (?P<rest>.*)$")


def typeset_toml(text: str, file_locale: str | None) -> str:
    """A seed TOML file: in `<slug>.fr.toml` every string value; in files holding every
    language (assessments, resources), the values of `fr = ...` lines, `fr = '''...'''`
    blocks and of tables named for the language ([resources.texts.fr]). Comments and keys
    are never touched."""
    lines, out, block_locale, table_locale = text.split("\n"), [], None, None
    for line in lines:
        header = re.match(r"^\[+([^\]]+)\]+\s*$", line)
        if header and block_locale is None:
            # A table such as [resources.texts.fr]: its values are in that language.
            table_locale = next((part for part in header.group(1).split(".") if part in RULES), None)
            out.append(line)
            continue
        if block_locale is not None:
            closing = line.endswith("'''") or line.endswith('"""')
            out.append(typeset(line, block_locale))
            if closing:
                block_locale = None
            continue
        if file_locale and line.lstrip().startswith('"'):  # an item of a list of strings
            out.append(typeset(line, file_locale))
            continue
        if line.lstrip().startswith("#") or " = " not in line:
            out.append(line)
            continue
        key, _, value = line.partition(" = ")
        locale = file_locale or table_locale or (key.strip() if key.strip() in RULES else None)
        if locale is None or not value:
            out.append(line)
            continue
        if value.startswith(("'''", '"""')) and not (len(value) > 3 and value.endswith(value[:3])):
            block_locale = locale
        out.append(f"{key} = {typeset(value, locale)}")
    return "\n".join(out)


def typeset_tree(folder: Path) -> list[Path]:
    changed = []
    for path in sorted(folder.rglob("*.toml")):
        match = re.search(r"\.([a-z]{2})\.toml$", path.name)
        file_locale = match.group(1) if match else None
        if file_locale is not None and file_locale not in RULES:
            continue
        text = path.read_text(encoding="utf-8")
        new = typeset_toml(text, file_locale)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(arguments: list[str]) -> int:
    for argument in map(Path, arguments):
        if (argument / "messages.pot").exists() or argument.name == "translations":
            for locale in RULES:
                catalogue = argument / locale / "LC_MESSAGES" / "messages.po"
                if catalogue.exists() and typeset_catalogue(catalogue, locale):
                    print(f"typeset {catalogue}")
        else:
            for path in typeset_tree(argument):
                print(f"typeset {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
