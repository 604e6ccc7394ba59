"""The smallest Django settings `sso-middleware check djangosite.wsgi:application` can load."""

SECRET_KEY = "django-check-secret-0123456789abcdefghij"
ROOT_URLCONF = "djangosite.urls"
ALLOWED_HOSTS = ["localhost"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware"]
SSO_FRILL_KEY = "frill-board-key-0123456789abcdefghijklmnop"
