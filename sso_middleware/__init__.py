"""Make your web app the identity provider for the SaaS tools your users sign into.

The public names, and where they live::

    from sso_middleware import Principal, Service, services, SSOError     # this module
    from sso_middleware import Key, MemoryReplayStore, RedisReplayStore, Login
    from sso_middleware.services import TokenRules, Destination, ReturnRules
    from sso_middleware.placements import QueryParameter, PathSegment, FormField
    from sso_middleware.wsgi import IssuerMiddleware, VerifierMiddleware  # werkzeug skin
    from sso_middleware.asgi import IssuerMiddleware, VerifierMiddleware  # pure ASGI skin
    from sso_middleware.extractors import remote_user, scope_user, session_key, django_user
    from sso_middleware.pages import ErrorPage                              # error_page= hooks
    from sso_middleware.testing import StandIn, StandInRefused              # the pytest plugin

Adapters are imported by their full path; this module only re-exports and imports no web framework.

The library in its layers, bottom first (a module imports from its own layer and those below; a
leading underscore marks a private module; docs/architecture.md says where a new preset,
placement, token check, command or framework goes)::

    errors, dates, steps         the exception tree; dates as people read them; sync-or-async logic
    principal, keys, redirects,  the user; secrets and key pairs; safe URLs; the neutral request,
      messages                     the Reply the skins send, the same-origin rule
    tokens, session, replay,     sign and verify; the verifier's cookie and a round trip's Trip;
      redis_store, jwks, pages     one-time ids (memory, Redis); key sets; error and confirm pages
    placements, confirm, service how a token travels; the emailed-link confirm step; value objects
    services/, oidc/             the presets, one module per vendor; the OpenID Connect provider
    links, receiving, wiring,    links for email; the verifier's configuration (Receiver); where
      flows                        the middleware sits; every decision, framework-free
    wsgi, asgi, aiohttp          the skins: translate environ/scope/request to flows and back
    extractors/, testing,        ready user extractors, one per framework; the pytest plugin and
      relying_party, snippets,     its OpenID relying party; a page's token script; the demo's
      serving                      local server
    cli/                         the command line (``python -m sso_middleware``), one module per
                                   command, and its back-ends: explain, lint (``check``), demo

The middleware options are documented on ``sso_middleware.flows.IssuerMiddleware``
and ``sso_middleware.flows.VerifierMiddleware``, the framework-free halves both skins share.
"""

from . import services as services
from .errors import ConfigurationError as ConfigurationError
from .errors import RequestError as RequestError
from .errors import SSOError as SSOError
from .flows import Login as Login
from .keys import Key as Key
from .principal import Principal as Principal
from .redis_store import RedisReplayStore as RedisReplayStore
from .replay import MemoryReplayStore as MemoryReplayStore
from .service import Service as Service

__all__ = [
    "ConfigurationError",
    "Key",
    "Login",
    "MemoryReplayStore",
    "Principal",
    "RedisReplayStore",
    "RequestError",
    "SSOError",
    "Service",
    "services",
]
__version__ = "0.1.0"
