"""Django's wsgi.py, with the issuer around the application object Django builds."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from sso_middleware import services
from sso_middleware.extractors import django_user
from sso_middleware.wsgi import IssuerMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangosite.settings")

application = IssuerMiddleware(
    get_wsgi_application(),
    services=[services.frill(key=settings.SSO_FRILL_KEY, hosts=["acme.frill.co"])],
    user=django_user,
)
