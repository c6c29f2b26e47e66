"""Pause: a confidential, anonymous prevention portal. `flask --app service ...` finds
the factory here."""

from service.app import create_app

__all__ = ["create_app"]
