"""Secrets: the configured string's bytes, an optional ``kid``, rotation, a length check once."""

from __future__ import annotations

import hashlib
import hmac
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeAlias

from jwt.algorithms import HMACAlgorithm

from .errors import ConfigurationError

Algorithm = Literal["HS256", "HS384", "HS512"]

_HASHES: dict[str, Any] = {
    "HS256": HMACAlgorithm.SHA256,
    "HS384": HMACAlgorithm.SHA384,
    "HS512": HMACAlgorithm.SHA512,
}
ALGORITHMS: frozenset[str] = frozenset(_HASHES)
"""Algorithms this library signs and verifies (HMAC only; ``none`` never)."""


# Asymmetric key material given where a shared secret belongs (PyJWT would refuse it per call).
_KEY_MATERIAL = (b"-----BEGIN", b"ssh-rsa", b"ssh-ed25519", b"ecdsa-sha2-")


class ShortKeyWarning(UserWarning):
    """A key is shorter than its algorithm's hash output (RFC 7518 §3.2)."""


class Key:
    """One HMAC secret bound to one algorithm, with an optional ``kid``.

    The secret is used exactly as configured: a string is taken as its UTF-8
    bytes and never base64-decoded (services hand out keys such as
    ``{sso_key_from_dashboard}`` that look like encodings but are not). A key
    shorter than the hash is allowed, because services choose their keys, but
    warned about once, here. ``repr()`` never shows the secret.

    >>> key = Key("a-secret-of-at-least-thirty-two-bytes!", kid="2026-11")
    >>> key
    Key(kid='2026-11', algorithm='HS256', secret=<hidden>)
    """

    __slots__ = ("_alg", "_prepared", "algorithm", "digest_size", "kid", "secret")

    def __init__(
        self,
        secret: str | bytes,
        *,
        kid: str | None = None,
        algorithm: str = "HS256",
        field: str = "key",
        min_length: int | None = None,
    ) -> None:
        if algorithm not in _HASHES:
            raise ConfigurationError(
                f"{field}: algorithm {algorithm!r} is not supported; use one of "
                f"{', '.join(sorted(_HASHES))} (HMAC with a shared secret)."
            )
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if not isinstance(secret, bytes):
            raise ConfigurationError(
                f"{field}: a key must be a str or bytes, not {type(secret).__name__}."
            )
        if not secret.strip(b"\0"):  # HMAC pads keys with zeros: all zeros is the empty key
            raise ConfigurationError(
                f"{field}: the key is empty (or all zero bytes, which HMAC treats as empty). Pass "
                "the secret the service gave you (for example from an environment variable that "
                "is actually set)."
            )
        stripped = secret.strip()
        if stripped.startswith(_KEY_MATERIAL) or (stripped.startswith(b"{") and b'"kty"' in stripped):
            raise ConfigurationError(
                f"{field}: this looks like a PEM, SSH or JWK key, not a shared secret. HMAC "
                "algorithms (HS256/384/512) take the secret string the service gave you."
            )
        if kid is not None and (not isinstance(kid, str) or not kid):
            raise ConfigurationError(f"{field}: kid must be a non-empty string.")
        self.secret = secret
        self.kid = kid
        self.algorithm = algorithm
        self._alg = HMACAlgorithm(_HASHES[algorithm])
        self._prepared = self._alg.prepare_key(secret)
        self.digest_size: int = _HASHES[algorithm]().digest_size
        # a service that issues keys of a fixed length (Help Scout: 44 characters) sets its own floor
        if len(secret) < (self.digest_size if min_length is None else min_length):
            warnings.warn(
                f"{field}: the {algorithm} key is {len(secret)} bytes; at least "
                f"{self.digest_size} are recommended (RFC 7518 section 3.2). It is used "
                "as configured because the service chose it.",
                ShortKeyWarning,
                stacklevel=3,
            )

    def sign(self, signing_input: bytes) -> bytes:
        return self._alg.sign(signing_input, self._prepared)

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        return self._alg.verify(signing_input, self._prepared, signature)

    def derive(self, purpose: str) -> bytes:
        """A separate secret for ``purpose`` (so a session cookie never verifies as a token)."""
        return hmac.new(self.secret, b"sso_middleware/" + purpose.encode(), hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"Key(kid={self.kid!r}, algorithm={self.algorithm!r}, secret=<hidden>)"


KeyInput: TypeAlias = "str | bytes | Key | Sequence[str | bytes | Key]"


class KeySet:
    """Keys for one direction: the first signs, all verify (rotation).

    A token that names a ``kid`` is checked with that key only; a token without
    one is checked against every key.
    """

    __slots__ = ("_by_kid", "keys")

    def __init__(self, keys: Iterable[Key]) -> None:
        self.keys = tuple(keys)
        if not self.keys:
            raise ConfigurationError("key: at least one key is required.")
        self._by_kid: dict[str, Key] = {}
        for key in self.keys:
            if key.kid is not None:
                if key.kid in self._by_kid:
                    raise ConfigurationError(f"key: kid {key.kid!r} is configured twice.")
                self._by_kid[key.kid] = key

    @classmethod
    def build(
        cls, value: KeyInput | KeySet | None, *, algorithm: str, field: str, min_length: int | None = None
    ) -> KeySet:
        """Accept a secret, a :class:`Key`, or a list of them (newest first)."""
        if isinstance(value, KeySet):
            return value
        if value is None:
            raise ConfigurationError(
                f"{field}: no key configured. Pass key=... with the secret the service "
                "gave you."
            )
        items = [value] if isinstance(value, (str, bytes, Key)) else list(value)
        return cls(
            item if isinstance(item, Key)
            else Key(item, algorithm=algorithm, field=field, min_length=min_length)
            for item in items
        )

    @property
    def signing(self) -> Key:
        return self.keys[0]

    @property
    def algorithms(self) -> frozenset[str]:
        return frozenset(k.algorithm for k in self.keys)

    def candidates(self, kid: object) -> tuple[Key, ...]:
        if kid is None:
            return self.keys
        if isinstance(kid, str):
            key = self._by_kid.get(kid)
            return (key,) if key is not None else ()
        return ()

    def __repr__(self) -> str:
        return f"KeySet({list(self.keys)!r})"


__all__ = [
    "ALGORITHMS",
    "Key",
    "KeySet",
    "ShortKeyWarning",
]
