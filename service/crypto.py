"""Encryption at rest for free text and contact details that visitors write.

One keyring per app, built from PAUSE_DATA_KEY: a comma-separated list of Fernet keys.
The first key encrypts; every key decrypts, so a new key can be put first, the data
re-encrypted in batches (`flask --app service keys rotate`), then the old key removed.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app


class UnreadableCiphertext(Exception):
    """The stored text was sealed with a key that is no longer configured."""


class Keyring:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plain_text: str) -> bytes:
        return self._fernet.encrypt(plain_text.encode("utf-8"))

    def open(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken as error:
            raise UnreadableCiphertext from error

    def reseal(self, token: bytes) -> bytes:
        """The same text, encrypted under the current first key."""
        return self._fernet.rotate(bytes(token))


def init_app(app: Flask) -> None:
    app.extensions["pause_keyring"] = Keyring(app.config["PAUSE"].data_keys)


def keyring() -> Keyring:
    return current_app.extensions["pause_keyring"]


def seal(plain_text: str) -> bytes:
    return keyring().seal(plain_text)


def unseal(token: bytes) -> str:
    return keyring().open(token)


def sealed_columns():
    """Every column that holds sealed text, as (model, column name)."""
    from booking.models import Booking
    from self_help.models import AssessmentResult, ExerciseAnswer
    from service.auth.held import HeldForm
    from service.auth.models import StaffMember
    from service.crisis.models import UrgentCase
    from service.outbox import OutboxMessage

    return [
        (ExerciseAnswer, "sealed_answer"), (AssessmentResult, "sealed_result"),
        (UrgentCase, "sealed_contact"), (UrgentCase, "sealed_message"), (UrgentCase, "sealed_reply"),
        (UrgentCase, "sealed_notes"),
        (Booking, "sealed_note"), (Booking, "sealed_contact"), (Booking, "sealed_reminder_email"),
        (Booking, "sealed_therapist_message"), (StaffMember, "totp_secret_sealed"),
        (OutboxMessage, "sealed_recipient"), (HeldForm, "sealed_form"),
    ]


def rotate_all(batch: int = 500) -> int:
    """Re-seals everything under the current first key, in batches of short transactions.
    Run after putting a new key first in PAUSE_DATA_KEY; then the old key can go."""
    from sqlalchemy import select, update

    from service.db import db

    current = keyring()
    resealed = 0
    for model, name in sealed_columns():
        column = getattr(model, name)
        primary_key = next(iter(model.__table__.primary_key.columns))
        last_id = None
        while True:
            with db.transaction() as session:
                query = select(primary_key, column).where(column.is_not(None)).order_by(primary_key).limit(batch)
                if last_id is not None:
                    query = query.where(primary_key > last_id)
                rows = session.execute(query).all()
                for row_id, token in rows:
                    session.execute(update(model).where(primary_key == row_id).values({name: current.reseal(token)}))
                resealed += len(rows)
            if len(rows) < batch:
                break
            last_id = rows[-1][0]
    return resealed
