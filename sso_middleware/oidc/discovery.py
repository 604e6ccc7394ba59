"""OpenID Provider metadata (OpenID Connect Discovery 1.0 section 3), served at
``{prefix}/.well-known/openid-configuration`` and checked by Authlib's
:class:`authlib.oidc.discovery.OpenIDProviderMetadata` when the provider is built."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from authlib.oidc.discovery import OpenIDProviderMetadata

from ..errors import ConfigurationError
from ..messages import Reply, Request, public_json
from ..steps import Steps
from .claims import CLAIMS
from .clients import SCOPES
from .endpoint import Ask, Endpoint

DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_AGE = 300


def metadata(issuer: str, endpoints: Mapping[str, str], algorithms: Iterable[str]) -> dict[str, Any]:
    """The discovery document for ``issuer`` (validated with Authlib's metadata checks).

    >>> doc = metadata("https://app.acme.com/sso", {"authorize": "https://app.acme.com/sso/oidc/authorize",
    ...     "token": "https://app.acme.com/sso/oidc/token", "userinfo": "https://app.acme.com/sso/oidc/userinfo",
    ...     "jwks": "https://app.acme.com/sso/.well-known/jwks.json"}, ["RS256"])
    >>> doc["issuer"], doc["code_challenge_methods_supported"]
    ('https://app.acme.com/sso', ['S256'])
    """
    doc: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": endpoints["authorize"],
        "token_endpoint": endpoints["token"],
        "userinfo_endpoint": endpoints["userinfo"],
        "jwks_uri": endpoints["jwks"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": sorted(algorithms),
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [*CLAIMS, "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }
    if "end_session" in endpoints:  # RP-Initiated Logout 1.0, when the app can end its session
        doc["end_session_endpoint"] = endpoints["end_session"]
    try:
        OpenIDProviderMetadata(doc).validate()
    except ValueError as e:
        raise ConfigurationError(f"OpenIDProvider: the discovery document would be invalid ({e}); "
                                 "check issuer= (an https URL without query or fragment).") from e
    return doc


class Discovery(Endpoint):
    """``GET {prefix}/.well-known/openid-configuration``: the metadata, cacheable, public."""

    name: ClassVar[str] = "discovery"
    methods: ClassVar[tuple[str, ...]] = ("GET", "HEAD")

    def _answer(self, request: Request) -> Steps[Ask, Reply]:
        reply = public_json(self.context.metadata, MAX_AGE)
        return reply if request.method != "HEAD" else replace(reply, body=b"")
        yield  # pragma: no cover


__all__ = ["DISCOVERY_PATH", "Discovery", "metadata"]
