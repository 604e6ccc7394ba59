"""The signed-in user, as the app's extractor reports it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .errors import ConfigurationError

_CORE = ("id", "email", "name")


def encodable(value: str) -> bool:
    """Whether UTF-8 can encode ``value`` (JSON lets a lone surrogate through; headers cannot)."""
    if value.isascii():  # most are: no copy made
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: object) -> bool:
    """A short string that is safe to hand an app."""
    return isinstance(value, str) and len(value) <= 256 and encodable(value)


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user: ``id``, ``email``, ``name`` and free ``attributes``.

    Claim builders and callables such as Invoiced's ``customer_id`` receive a
    ``Principal``. Claims are only ever built from it, never from request
    parameters. Values keep their type: an integer id stays an integer.

    >>> ada = Principal.coerce({"id": 7, "email": "ada@example.com", "plan": "pro"})
    >>> ada.id, ada.email, ada.name, ada.attributes["plan"]
    (7, 'ada@example.com', None, 'pro')
    """

    id: Any
    email: str | None = None
    name: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.attributes, MappingProxyType):
            object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    @classmethod
    def from_claims(cls, subject: Any, claims: Mapping[str, Any]) -> Principal:
        """The user a verified claim set names: ``subject`` as id, string ``email``/``name``,
        every other claim in ``attributes``.

        >>> Principal.from_claims("ada", {"sub": "ada", "name": "Ada", "plan": "pro"})
        Principal(id='ada', email=None, name='Ada', attributes=mappingproxy({'sub': 'ada', 'plan': 'pro'}))
        """
        attributes = dict(claims)
        email, name = attributes.pop("email", None), attributes.pop("name", None)
        # a proxy already: __post_init__ need not copy the dict again
        return cls(subject, email if _text(email) else None, name if _text(name) else None,
                   MappingProxyType(attributes))

    @classmethod
    def coerce(cls, user: object) -> Principal | None:
        """Convert what an extractor returned; ``None`` means nobody is signed in.

        A mapping's keys other than id/email/name land in ``attributes``; any
        other object is read through its ``id``, ``email`` and ``name``
        attributes (and an ``attributes`` mapping if it has one). An object
        whose ``is_authenticated`` is false (Django's, Flask-Login's or
        Starlette's anonymous user) is nobody. A user without an id is a
        mistake in the extractor and raises, rather than sending a signed-in
        user round the login page for ever.

        >>> Principal.coerce({"email": "ada@example.com"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sso_middleware.errors.ConfigurationError: user: the extractor returned a dict without an 'id'...
        """
        if user is None or isinstance(user, Principal):
            return user
        if getattr(user, "is_authenticated", True) is False:
            return None
        if isinstance(user, Mapping):
            values = {k: user.get(k) for k in _CORE}
            extra = {k: v for k, v in user.items() if k not in _CORE}
        else:
            values = {k: getattr(user, k, None) for k in _CORE}
            raw = getattr(user, "attributes", None)
            extra = dict(raw) if isinstance(raw, Mapping) else {}
        if values["id"] is None or values["id"] == "":
            raise ConfigurationError(
                f"user: the extractor returned a {type(user).__name__} without an 'id'; "
                "return None when nobody is signed in."
            )
        return cls(values["id"], values["email"], values["name"], extra)


__all__ = [
    "Principal",
    "encodable",
]
