"""OpenID Connect provider mode: the app becomes the identity provider of every service that
takes "custom OIDC" (Grafana, Metabase, Outline, GitLab, Tailscale, ...).

>>> from sso_middleware.keys import Key
>>> provider = OpenIDProvider(issuer="https://app.acme.com/sso", key=Key.generate("RS256"),
...     clients=[Client("grafana", secret="grafana-client-secret-0123456789",
...                     redirect_uris=["https://grafana.acme.com/login/generic_oauth"])])
>>> provider.metadata["token_endpoint"]
'https://app.acme.com/sso/oidc/token'

Pass it to the issuer middleware as ``openid=provider``. Modules, one concern each:
``clients`` (:class:`Client`), ``configuration`` (:class:`OpenIDProvider`), ``discovery``,
``authorize``, ``token``, ``userinfo``, ``minting`` (ID and access tokens), ``codes`` (sealed
one-time codes), ``claims`` (by scope), ``endpoint`` (what the endpoints share). Protocol
pieces come from Authlib (``pip install 'sso-middleware[oidc]'``).
"""

from __future__ import annotations

from .clients import Client as Client
from .configuration import OpenIDProvider as OpenIDProvider
from .endpoint import Endpoint as Endpoint
from .endpoint import StoreCall as StoreCall

__all__ = ["Client", "Endpoint", "OpenIDProvider", "StoreCall"]
