"""Requests to views without a limit skip Flask-Limiter altogether (service.security);
that is only safe while every limit is declared on its view with `rate_limit`."""

from __future__ import annotations

from pathlib import Path

from flask_limiter.util import get_qualified_name

from service.security import limiter

ROOT = Path(__file__).resolve().parents[2]


def test_every_limit_is_declared_on_a_view_marked_for_the_limiter(app):
    manager = limiter.limit_manager
    assert not manager.application_limits and not manager.default_limits and not manager._blueprint_limits
    limited = set(manager._decorated_limits)
    assert len(limited) >= 8  # sign-in, codes, keys, urgent contact, booking
    views = {get_qualified_name(view): view for view in app.view_functions.values()}
    assert limited <= set(views), "each limited function is a view"
    for name in limited:
        assert getattr(views[name], "rate_limited", False), f"{name} has a limit but no rate_limit mark"


def test_no_module_declares_a_limit_any_other_way():
    for path in [*ROOT.glob("service/**/*.py"), *ROOT.glob("self_help/**/*.py"), *ROOT.glob("booking/**/*.py"),
                 *ROOT.glob("content/**/*.py")]:
        text = path.read_text()
        for call in ("limiter.limit(", "limiter.shared_limit(", "default_limits", "application_limits"):
            assert call not in text or path.name == "security.py", f"{path}: {call}"
