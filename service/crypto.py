"""Encryption at rest for free text and contact details that visitors write.

One keyring per app, built from PAUSE_DATA_KEY: a comma-separated list of keys (32
random bytes each, URL-safe base64, the format `Fernet.generate_key()` makes). The first
key encrypts; every key decrypts, so a new key can be put first, the data re-encrypted
in batches (`flask --app service keys rotate`), then the old key removed.

Sealed values are AES-256-GCM: a version byte, the key's id (4 bytes of a hash of the
key), a random 96-bit nonce, then the ciphertext and its tag. Unlike Fernet, a value
holds no time at all, so a database dump cannot be matched against web-server logs by
the second each value was written. Values sealed earlier with Fernet still open, and
`keys rotate` turns them into AES-GCM values.

The sealed columns are found from the models' metadata: a column declared with
`mapped_column(..., info={"sealed": True})` is sealed; this module imports no domain
package.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app

VERSION = b"\x01"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
HEADER_BYTES = len(VERSION) + KEY_ID_BYTES + NONCE_BYTES
# Every Fernet token starts with its version byte 0x80, base64-encoded: "gAAAAA".
_FERNET_PREFIX = b"gA"


class UnreadableCiphertext(Exception):
    """The stored text was sealed with a key that is no longer configured."""


def _key_bytes(key: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.encode() if isinstance(key, str) else key)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a data key is 32 bytes in URL-safe base64") from error
    if len(raw) != 32:
        raise ValueError("a data key is 32 bytes in URL-safe base64")
    return raw


def key_id(key: str) -> bytes:
    """A short, stable name for a key, stored in front of each value it seals (not secret:
    a hash of the key, so the key cannot be found from it)."""
    return hashlib.sha256(b"pause key id\x00" + _key_bytes(key)).digest()[:KEY_ID_BYTES]


class Keyring:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._ciphers = {key_id(key): AESGCM(_key_bytes(key)) for key in keys}
        self._current_id = key_id(keys[0])
        # Only to open values sealed before AES-GCM (they are re-sealed by `keys rotate`).
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, plain_text: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        header = VERSION + self._current_id + nonce
        # The header is authenticated too: a value cannot be made to claim another key.
        return header + self._ciphers[self._current_id].encrypt(nonce, plain_text.encode("utf-8"), header)

    def open(self, token: bytes) -> str:
        token = bytes(token)
        if token[:1] == VERSION and len(token) > HEADER_BYTES:
            cipher = self._ciphers.get(token[1:1 + KEY_ID_BYTES])
            if cipher is None:
                raise UnreadableCiphertext
            header, nonce = token[:HEADER_BYTES], token[1 + KEY_ID_BYTES:HEADER_BYTES]
            try:
                return cipher.decrypt(nonce, token[HEADER_BYTES:], header).decode("utf-8")
            except InvalidTag as error:
                raise UnreadableCiphertext from error
        if token.startswith(_FERNET_PREFIX):
            try:
                return self._fernet.decrypt(token).decode("utf-8")
            except InvalidToken as error:
                raise UnreadableCiphertext from error
        raise UnreadableCiphertext

    def reseal(self, token: bytes) -> bytes:
        """The same text, encrypted under the current first key."""
        return self.seal(self.open(token))


def init_app(app: Flask) -> None:
    app.extensions["pause_keyring"] = Keyring(app.config["PAUSE"].data_keys)


def keyring() -> Keyring:
    return current_app.extensions["pause_keyring"]


def seal(plain_text: str) -> bytes:
    return keyring().seal(plain_text)


def unseal(token: bytes) -> str:
    return keyring().open(token)


@dataclass(frozen=True)
class SealedColumn:
    """A column holding sealed text: the mapped class and the attribute's name. It
    unpacks as (model, name), as callers have always used it."""

    model: type
    name: str

    def __iter__(self):
        return iter((self.model, self.name))


def sealed_columns() -> list[SealedColumn]:
    """Every column declared with info={"sealed": True}, across every mapped model, as
    (model, attribute name) pairs in a stable order. The models must be imported (the
    app factory and service.models do)."""
    from service.db import Base

    found = []
    for mapper in Base.registry.mappers:
        for attribute in mapper.column_attrs:
            if any(column.info.get("sealed") for column in attribute.columns):
                found.append(SealedColumn(mapper.class_, attribute.key))
    return sorted(found, key=lambda item: (item.model.__tablename__, item.name))


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
