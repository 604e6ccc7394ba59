"""An app whose SSO configuration is refused when it is built (for `sso-middleware check`)."""

from sso_middleware import services

frill = services.frill(key="frill-board-key-0123456789abcdefghijklmnop", hosts=["https://feedback.acme.com"])
