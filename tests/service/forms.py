"""The forms of a page, read the way a browser reads them, so that tests can post to
every form the portal shows without knowing each one by heart."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Field:
    name: str
    kind: str  # the input's type, or "select", "textarea", "button"
    value: str = ""
    options: list[str] = field(default_factory=list)  # a select's or a radio group's values


@dataclass
class Form:
    page: str
    action: str
    fields: list[Field] = field(default_factory=list)

    def defaults(self) -> dict[str, str]:
        """What a browser would send if the visitor pressed the first button at once."""
        values: dict[str, str] = {}
        for item in self.fields:
            if item.kind == "button" or (item.kind in ("checkbox", "radio") and not item.value):
                continue
            values.setdefault(item.name, item.value)
        return values

    def fillable(self) -> list[Field]:
        """Every field a visitor (or anyone writing requests by hand) can set, hidden ones
        included; not the CSRF token, which has tests of its own."""
        return [item for item in self.fields if item.name != "csrf_token" and item.kind != "button"]


class _FormReader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self._option_text = self._option_chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            if attributes.get("method", "get").lower() == "post":
                self._form = Form(self.page, attributes.get("action") or self.page)
                self.forms.append(self._form)
            return
        if self._form is None or not attributes.get("name") and tag != "option":
            return
        name = attributes.get("name", "")
        if tag == "input":
            kind = attributes.get("type", "text").lower()
            chosen = kind not in ("checkbox", "radio") or "checked" in attributes
            existing = next((item for item in self._form.fields if item.name == name and item.kind == kind), None)
            if kind == "radio" and existing is not None:
                existing.options.append(attributes.get("value", "on"))
                if chosen:
                    existing.value = attributes.get("value", "on")
                return
            self._form.fields.append(Field(name, kind, attributes.get("value", "on" if kind == "checkbox" else "")
                                           if chosen else "", [attributes.get("value", "on")]))
        elif tag == "button":
            self._form.fields.append(Field(name, "button", attributes.get("value", "")))
        elif tag == "select":
            self._select = Field(name, "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            # An option without a value sends its text (handle_data adds it).
            self._option_text = "value" not in attributes
            self._select.options.append(attributes.get("value", ""))
            if "selected" in attributes or len(self._select.options) == 1:
                self._select.value = self._select.options[-1]
                self._option_chosen = True
        elif tag == "textarea":
            self._textarea = Field(name, "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        elif self._option_text and self._select is not None:
            self._select.options[-1] += data.strip()
            if self._option_chosen:
                self._select.value = self._select.options[-1]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option_text = self._option_chosen = False
        elif tag == "textarea":
            self._textarea = None


def forms_in(page: str, html: str) -> list[Form]:
    reader = _FormReader(page)
    reader.feed(html)
    return reader.forms
