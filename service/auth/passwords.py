"""Staff passwords: argon2id, a length policy and a list of common passwords."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

from service import hashing

MIN_LENGTH = 12
MAX_LENGTH = 128

hasher = PasswordHasher(time_cost=hashing.TIME_COST, memory_cost=hashing.MEMORY_KIB,
                        parallelism=hashing.PARALLELISM)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from public breach corpora.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def problems_with(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, as messages for the person choosing it."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_l("Use at least %(count)d characters.", count=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_l("Use at most %(count)d characters.", count=MAX_LENGTH))
    lowered = password.lower()
    if lowered in common_passwords() or (username and username.lower() in lowered):
        problems.append(_l("This password is too common or contains your username. Choose another one."))
    return problems


def hash_password(password: str) -> str:
    hashing.hashes_computed.increment()
    with hashing.concurrent_hashes:
        return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Always computes one hash, even with no stored hash, so an unknown account takes
    as long to refuse as a wrong password."""
    hashing.hashes_computed.increment()
    with hashing.concurrent_hashes:
        try:
            return hasher.verify(stored_hash or _decoy_hash(), password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hasher.hash("decoy password that matches no account")
