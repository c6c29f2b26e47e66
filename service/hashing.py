"""argon2id, with a cap on how many hashes run at once so a flood of attempts queues
instead of exhausting memory (each hash takes 19 MiB)."""

from __future__ import annotations

import threading

from argon2.low_level import Type, hash_secret_raw

# OWASP's minimum for argon2id: m=19 MiB, t=2, p=1.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1

# Public: staff password hashing shares the same cap.
concurrent_hashes = threading.BoundedSemaphore(4)


class HashCounter:
    """How many argon2 hashes this process has computed: lets tests and operators see
    that throttled requests never reach the hash."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self._lock:
            self.value += 1


hashes_computed = HashCounter()

# Anonymous keys are found by their hash, so the hash must be deterministic: one salt
# for the scheme. That is sound here and only here because every key carries 100 bits
# of server-made randomness: no two keys share a hash, and no table of precomputed
# hashes over 2^100 keys can exist. The version lets the scheme change later.
ANONYMOUS_KEY_SALT = b"pause-anonymous-key-v1"


def anonymous_key_digest(normalised_key: str) -> bytes:
    hashes_computed.increment()
    with concurrent_hashes:
        return hash_secret_raw(
            secret=normalised_key.encode("ascii"),
            salt=ANONYMOUS_KEY_SALT,
            time_cost=TIME_COST,
            memory_cost=MEMORY_KIB,
            parallelism=PARALLELISM,
            hash_len=32,
            type=Type.ID,
        )
