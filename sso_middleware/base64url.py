"""Unpadded base64url (RFC 7515 section 2): written once here, read strictly (one spelling for
each byte string, as a token's signature and segments must have)."""

from __future__ import annotations

import binascii

from .errors import InvalidToken

_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode_bytes(data: bytes) -> bytes:
    """Unpadded base64url, as bytes (a signer joins bytes, and decodes once at the end).

    >>> encode_bytes(bytes([251, 255]))
    b'-_8'
    """
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def encode(data: bytes) -> str:
    """Unpadded base64url, as a string.

    >>> encode(bytes([251, 255]))
    '-_8'
    """
    return encode_bytes(data).decode("ascii")


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# A segment of 4n+2 (4n+3) characters ends in one that carries 4 (2) unused bits: only the
# characters with those bits zero are canonical. Others decode to the same bytes: refuse them
# (one token, one spelling), without re-encoding to compare.
_CANONICAL_LAST = {2: frozenset(_ALPHABET[::16]), 3: frozenset(_ALPHABET[::4])}
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")  # on bytes: str.translate is several times slower
_NOT_ALPHABET = bytes(sorted(set(range(256)) - set(_ALPHABET.encode())))
"""What translating a segment deletes: a segment that loses any character was not base64url
(``a2b_base64`` would skip it silently)."""
_PADDING = (b"", b"", b"==", b"=")


def decode(segment: str) -> bytes:
    """Strict unpadded base64url: its alphabet only (no padding, no other character), the last
    character canonical; raise ``InvalidToken``.

    >>> decode("-_8")
    b'\\xfb\\xff'
    >>> decode("-_9")
    Traceback (most recent call last):
    ...
    sso_middleware.errors.InvalidToken: The sign-in token is malformed.
    """
    rest = len(segment) % 4
    if rest == 1 or not segment.isascii() or (rest and segment[-1] not in _CANONICAL_LAST[rest]):
        raise InvalidToken()
    data = segment.encode("ascii")
    standard = data.translate(_FROM_URLSAFE, _NOT_ALPHABET)  # one pass: checked and mapped
    if len(standard) != len(data):
        raise InvalidToken()
    try:
        return binascii.a2b_base64(standard + _PADDING[rest])
    except (binascii.Error, ValueError) as e:
        raise InvalidToken() from e


__all__ = ["decode", "encode", "encode_bytes"]
