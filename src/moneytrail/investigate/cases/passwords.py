"""Password hashing with Argon2id (argon2-cffi's recommended parameters by default)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Hasher:
    """Hashes and verifies passwords. ``Hasher.fast()`` is for tests only (weak parameters)."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher()
        # Verified against when the user does not exist, so an unknown name costs as long as a wrong password.
        self._dummy = self._hasher.hash("not-a-real-password")

    @classmethod
    def fast(cls) -> Hasher:
        return cls(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

    def hash(self, password: str) -> str:
        """The Argon2id hash of ``password`` (salted; encodes its own parameters)."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; spends the same time when ``password_hash`` is None."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
