"""Django's asgi.py, with the issuer around the application object Django builds."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from sso_middleware import services
from sso_middleware.asgi import IssuerMiddleware
from sso_middleware.extractors import django_user

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangosite.settings")

application = IssuerMiddleware(
    get_asgi_application(),
    services=[services.frill(key=settings.SSO_FRILL_KEY, hosts=["acme.frill.co"])],
    user=django_user,
)
