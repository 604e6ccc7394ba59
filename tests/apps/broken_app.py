"""An app module that does not import (for `sso-middleware check`)."""

import a_module_that_is_not_installed  # noqa: F401
