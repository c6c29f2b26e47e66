"""The crisis resources as a structured form: one fieldset per resource, a field per
value, every language's name, hours and description. The TOML text stays for power
users (import and export); both are read into the same document and checked alike."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

MAX_RESOURCES = 200
TEXT_FIELDS = ("name", "hours", "description")


def document_from_form(slug: str, form: MultiDict, locales: tuple[str, ...]) -> dict:
    try:
        count = min(max(int(form.get("resource_count", "0")), 0), MAX_RESOURCES)
    except ValueError:
        count = 0
    resources = []
    for index in range(count):
        prefix = f"resources-{index}"
        if form.get(f"{prefix}-remove") == "y":
            continue
        resource: dict = {
            "slug": form.get(f"{prefix}-slug", "").strip(),
            "kind": form.get(f"{prefix}-kind", ""),
            "regions": [region for region in form.getlist(f"{prefix}-regions") if region],
            "languages": [language for language in form.get(f"{prefix}-languages", "").split() if language],
            "phone": form.get(f"{prefix}-phone", "").strip(),
            "contact_way": form.get(f"{prefix}-contact_way", "call") or "call",
            "web_address": form.get(f"{prefix}-web_address", "").strip(),
            "source_address": form.get(f"{prefix}-source_address", "").strip(),
            "texts": {locale: {field: form.get(f"{prefix}-{locale}-{field}", "").strip() for field in TEXT_FIELDS}
                      for locale in locales},
        }
        verified = form.get(f"{prefix}-verified_on", "").strip()
        if verified:
            resource["verified_on"] = verified
        if form.get(f"{prefix}-verify_now") == "y":
            resource["verify_now"] = True
        resources.append(resource)
    return {"slug": slug, "resources": resources}


def with_empty_resource(document: dict, locales: tuple[str, ...]) -> dict:
    empty = {"slug": "", "kind": "prevention", "regions": [], "languages": [], "phone": "", "contact_way": "call",
             "web_address": "", "source_address": "", "texts": {locale: dict.fromkeys(TEXT_FIELDS, "")
                                                                 for locale in locales}}
    return {**document, "resources": [*(document.get("resources") or []), empty]}
