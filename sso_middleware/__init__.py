"""Make your web app the identity provider for the SaaS tools your users sign into.

Adapters are imported by their full path: ``sso_middleware.wsgi`` and
``sso_middleware.asgi``. This module imports no web framework.
"""

from . import services as services
from .errors import ConfigurationError as ConfigurationError
from .errors import RequestError as RequestError
from .errors import SSOError as SSOError
from .principal import Principal as Principal
from .services import Service as Service

__all__ = ["ConfigurationError", "Principal", "RequestError", "SSOError", "Service", "services"]
__version__ = "0.1.0"
