"""Destructive actions ask on a page of their own (so they work with JavaScript off):
the first post shows what will happen; the post from that page, with confirmed=yes,
does it."""

from __future__ import annotations

from flask import render_template, request


def confirmed() -> bool:
    return request.form.get("confirmed") == "yes"


def confirmation_page(question: str, consequence: str, button: str, back: str,
                      keep_fields: bool = False, action: str | None = None):
    """The page asking to confirm; `keep_fields` carries what the form held (a draft
    being edited) so that nothing typed is lost either way."""
    from service.auth.forms import ConfirmForm

    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in ("csrf_token", "confirmed", "action")] if keep_fields else []
    return render_template("confirm.html", question=question, consequence=consequence, button=button, back=back,
                           fields=fields, action=action, target=request.path, form=ConfirmForm()), 200
