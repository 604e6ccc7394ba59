"""The presets: one function per vendor, each following that vendor's own documentation.

Each returns a :class:`~sso_middleware.service.Service`; its docstring cites the vendor page it
follows and states the claim table (required and optional claims, types, lifetime rule, where
the token goes, the return parameter and what may be in it). :func:`from_config` builds them
from plain settings. The value objects are re-exported here, so
``from sso_middleware.services import TokenRules, Destination, ReturnRules`` keeps working.

Where things live: one module per vendor, named after it (``frill.py`` holds :func:`frill`),
holding its preset and nothing else; what several presets share is in the private
``_common.py``. This module is the façade: it imports every preset and lists it in
:data:`PRESETS`. A new preset is a new vendor module, one import line and one entry in
``PRESETS`` below (and ``__all__``), its cases in ``tests/test_presets.py`` and its line in
``docs/options.md``.

>>> from sso_middleware import services
>>> services.frill(key="a-secret-of-at-least-thirty-two-bytes!", hosts=["feedback.acme.com"]).name
'frill'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigurationError
from ..placements import FormField as FormField
from ..placements import Fragment as Fragment
from ..placements import PathSegment as PathSegment
from ..placements import QueryParameter as QueryParameter
from ..placements import SignedPayload as SignedPayload
from ..placements import TokenEndpoint as TokenEndpoint
from ..placements import UserHash as UserHash
from ..service import ClaimBuilder as ClaimBuilder
from ..service import Destination as Destination
from ..service import ExtraClaims as ExtraClaims
from ..service import Pending as Pending
from ..service import ReturnRules as ReturnRules
from ..service import Service as Service
from ..service import TenantHosts as TenantHosts
from ..service import TenantKey as TenantKey
from ..service import TokenRules as TokenRules
from ..service import generic as generic
from ..service import need as need
from ..service import optional as optional
from .canny import canny as canny
from .chatwoot import chatwoot as chatwoot
from .crisp import crisp as crisp
from .discourse import discourse as discourse
from .featurebase import featurebase as featurebase
from .freshworks import freshworks as freshworks
from .frill import frill as frill
from .front_chat import front_chat as front_chat
from .gainsight_px import gainsight_px as gainsight_px
from .gitbook import gitbook as gitbook
from .gleap import gleap as gleap
from .grafana import grafana as grafana
from .happyfox import happyfox as happyfox
from .hellonext import hellonext as hellonext
from .helpjuice import helpjuice as helpjuice
from .helpscout import helpscout as helpscout
from .helpscout_beacon import helpscout_beacon as helpscout_beacon
from .intercom import intercom as intercom
from .intercom_identity import intercom_identity as intercom_identity
from .invoiced import invoiced as invoiced
from .knock import knock as knock
from .launchnotes import launchnotes as launchnotes
from .loopedin import loopedin as loopedin
from .metabase import metabase as metabase
from .mintlify import mintlify as mintlify
from .mojo import mojo as mojo
from .novu import novu as novu
from .productlane import productlane as productlane
from .pylon import pylon as pylon
from .readme import readme as readme
from .stream import stream as stream
from .tableau import tableau as tableau
from .upvoty import upvoty as upvoty
from .userback import userback as userback
from .userjot import userjot as userjot
from .uservoice import uservoice as uservoice
from .zendesk import zendesk as zendesk
from .zendesk_messaging import zendesk_messaging as zendesk_messaging
from .zentrik import zentrik as zentrik

PRESETS: dict[str, Callable[..., Service]] = {
    preset.__name__: preset
    for preset in (canny, discourse, featurebase, freshworks, frill, gitbook, grafana, helpscout,
                   intercom, invoiced, launchnotes, metabase, mintlify, productlane, tableau, upvoty,
                   userback, userjot, uservoice, zendesk,
                   # third pass: tokens the page fetches, redirects, and widgets' user hashes
                   chatwoot, crisp, front_chat, gainsight_px, gleap, happyfox, hellonext, helpjuice,
                   helpscout_beacon, intercom_identity, knock, loopedin, mojo, novu, pylon, readme, stream,
                   zendesk_messaging, zentrik)
}
"""Every preset by name, as :func:`from_config` finds them."""


def _setting_value(option: str, value: Any) -> Any:
    """Settings are often strings (environment variables): a list option takes ``"a.com, b.com"``."""
    if option == "hosts" and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if option == "ttl" and isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)
    if option == "widget" and isinstance(value, str):  # "true"/"false" from the environment
        return _FLAGS.get(value.strip().lower(), value)
    return value


_FLAGS = {"true": True, "1": True, "yes": True, "on": True,
          "false": False, "0": False, "no": False, "off": False}


def from_config(config: Mapping[str, Any], *, setting: str = "SSO_SERVICES") -> list[Service]:
    """Services from plain settings: ``{name: {option: value}}`` (Django settings, Flask config,
    or environment variables gathered into a dict).

    The entry's name picks the preset (``preset=`` picks another, so two Frill boards can be
    ``frill-eu`` and ``frill-us``); the other keys are that preset's options. ``hosts`` may be
    a comma-separated string, ``ttl`` a string of digits and ``widget`` ``"true"`` or
    ``"false"``. Every mistake is a
    ``ConfigurationError`` naming the setting, e.g. ``SSO_SERVICES['frill']['hosts']``.

    >>> [s.name for s in from_config({"frill": {"key": "a-secret-of-at-least-thirty-two-bytes!",
    ...                                         "hosts": "feedback.acme.com"}})]
    ['frill']
    """
    if not isinstance(config, Mapping) or not config:
        raise ConfigurationError(f"{setting}: a mapping of service names to their options, e.g. "
                                 "{'frill': {'key': ..., 'hosts': ['feedback.acme.com']}}.")
    return [_entry(f"{setting}[{entry!r}]", entry, options) for entry, options in config.items()]


def _entry(where: str, entry: str, options: Any) -> Service:
    """One entry of the settings: its preset called with its options; a mistake names ``where``."""
    if not isinstance(options, Mapping):
        raise ConfigurationError(f"{where}: the service's options as a mapping, e.g. {{'key': ...}}.")
    options = dict(options)
    preset_name = options.pop("preset", entry)
    preset = _preset(where, preset_name)
    _check_options(where, preset, options)
    if preset_name != entry:
        options.setdefault("name", entry)
    values = {option: _setting_value(option, value) for option, value in options.items()}
    try:
        return preset(**values)
    except ConfigurationError as e:
        named = next((o for o in sorted(values, key=len, reverse=True) if f"{o}" in e.message), None)
        raise ConfigurationError(
            f"{where}{'' if named is None else f'[{named!r}]'}: {e.message}"
        ) from e


def _preset(where: str, preset_name: object) -> Callable[..., Service]:
    preset = PRESETS.get(preset_name) if isinstance(preset_name, str) else None
    if preset is None:
        raise ConfigurationError(
            f"{where}: no preset named {preset_name!r}; use one of {', '.join(sorted(PRESETS))} "
            "(or 'preset': 'frill' to name this entry yourself)."
        )
    return preset


def _check_options(where: str, preset: Callable[..., Service], options: Mapping[str, Any]) -> None:
    """Every option one the preset takes, and every option it needs given."""
    signature = inspect.signature(preset)
    accepted = set(signature.parameters)
    unknown = sorted(set(options) - accepted)
    if unknown:  # a misspelling is the likelier mistake: name it before what is missing
        raise ConfigurationError(
            f"{where}[{unknown[0]!r}]: services.{preset.__name__} takes no such option; it takes "
            f"{', '.join(sorted(accepted))}."
        )
    missing = [n for n, p in signature.parameters.items() if p.default is p.empty and n not in options]
    if missing:
        raise ConfigurationError(f"{where}: services.{preset.__name__} needs {', '.join(missing)}.")


__all__ = [
    "PRESETS",
    "ClaimBuilder",
    "Destination",
    "ExtraClaims",
    "FormField",
    "Fragment",
    "PathSegment",
    "Pending",
    "QueryParameter",
    "ReturnRules",
    "Service",
    "SignedPayload",
    "TenantHosts",
    "TenantKey",
    "TokenEndpoint",
    "TokenRules",
    "UserHash",
    "canny",
    "chatwoot",
    "crisp",
    "discourse",
    "featurebase",
    "freshworks",
    "frill",
    "from_config",
    "front_chat",
    "gainsight_px",
    "generic",
    "gitbook",
    "gleap",
    "grafana",
    "happyfox",
    "hellonext",
    "helpjuice",
    "helpscout",
    "helpscout_beacon",
    "intercom",
    "intercom_identity",
    "invoiced",
    "knock",
    "launchnotes",
    "loopedin",
    "metabase",
    "mintlify",
    "mojo",
    "need",
    "novu",
    "optional",
    "productlane",
    "pylon",
    "readme",
    "stream",
    "tableau",
    "upvoty",
    "userback",
    "userjot",
    "uservoice",
    "zendesk",
    "zendesk_messaging",
    "zentrik",
]
