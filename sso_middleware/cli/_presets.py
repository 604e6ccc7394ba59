"""A preset built from the command line, and which ``--option`` flags each command needs. Private.

``mint`` needs every option the preset needs to sign a user in. ``verify`` needs only the options
that decide what a receiver accepts: one that only says where the browser goes (Invoiced's
``company``, Frill's ``hosts``) is filled with a placeholder. Which options those are is found,
not listed per preset, by one rule: the missing options are filled with placeholders (a name, a
host, an https site) in two different ways, and an option whose value changes nothing a receiver
checks (:class:`~sso_middleware.tokens.TokenPolicy`: algorithms, keys and their ``kid``, ``iss``,
``aud``, ``typ``, required claims, ages) is not asked for. Anything that changes it is asked for,
by its flag; so is anything the placeholders cannot stand in for.
"""

from __future__ import annotations

import inspect
import itertools
import json
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ._common import UsageError

if TYPE_CHECKING:
    from ..keys import KeyInput, KeySet
    from ..service import Service
    from ..tokens import TokenPolicy

Accepts = Callable[["Service"], "TokenPolicy"]
"""What ``verify`` checks a token with, for a service: its receiving policy with the command's options."""

_PLACEHOLDERS: tuple[Callable[[str], str], ...] = (
    "sso-placeholder-{}".format,  # a name, an id, a vendor subdomain
    "sso-placeholder-{}.example".format,  # a host (a setting's hosts may be one string)
    "https://sso-placeholder-{}.example".format,  # a site or a page
)
_UNKNOWN = "?"  # a difference that could not be named: one of the two would not build
_MAYBE = 2  # options that default to None but one of which a preset may need (company or base_url)


@dataclass(frozen=True, slots=True)
class _Fill:
    """A placeholder for each option not given; ``values(vary=name)`` gives ``name`` its other value."""

    shapes: Mapping[str, Callable[[str], str]]

    def values(self, vary: str | None = None) -> dict[str, str]:
        return {name: shape("b" if name == vary else "a") for name, shape in self.shapes.items()}


def _build(name: str, options: Mapping[str, Any], key: KeyInput) -> Service:
    """The preset ``name`` with ``options`` as settings (``hosts`` may be one string), ``key`` as its key."""
    from ..services import PRESETS, from_config

    preset = PRESETS.get(name)
    takes = inspect.signature(preset).parameters if preset is not None else {}
    key_option = "secret" if "secret" in takes and "key" not in takes else "key"  # Discourse, Tableau
    return from_config({name: {**options, key_option: key}}, setting="service")[0]


def _quietly(make: Callable[[], Any]) -> Any:
    """``make()``, or ``None`` when it refuses the configuration; its warnings (a short key) not shown:
    a trial build with placeholders is not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return make()
        except ConfigurationError:
            return None


def _fills(name: str, works: Callable[[dict[str, str]], bool]) -> list[_Fill]:
    """The smallest sets of options the preset needs, each with the first placeholders with which
    ``works`` holds: every option it requires, and up to two of those that default to ``None``
    (Invoiced needs ``company`` or ``base_url``)."""
    from ..services import PRESETS

    preset = PRESETS.get(name)
    if preset is None:
        return []
    parameters = inspect.signature(preset).parameters
    required = [n for n, p in parameters.items() if p.default is p.empty and n not in ("key", "secret")]
    maybe = [n for n, p in parameters.items() if p.default is None]
    for size in range(_MAYBE + 1):
        found = [fill for extra in itertools.combinations(maybe, size)
                 for fill in _first_fill((*required, *extra), works)]
        if found:
            return found
    return []


def _gaps(name: str, given: Collection[str], works: Callable[[dict[str, str]], bool]) -> list[_Fill]:
    """Placeholders for what is missing besides the options ``given`` (kept as given), one fill per
    way the preset can be completed with the fewest flags more. Empty when nothing can complete
    it, and when a way needs nothing more than was given: then the values given are what the
    preset refuses, and its own message says why (a placeholder never overrides what was given)."""
    ways = [{n: s for n, s in fill.shapes.items() if n not in given} for fill in _fills(name, works)]
    fewest = min((len(way) for way in ways), default=0)
    if fewest == 0:
        return []
    fills = [_Fill(way) for way in ways if len(way) == fewest]
    return [fill for fill in fills if works(fill.values())]


def _first_fill(names: tuple[str, ...], works: Callable[[dict[str, str]], bool]) -> list[_Fill]:
    """The first placeholders for ``names`` with which ``works`` holds (none: an empty list)."""
    if not names:
        return []
    for shapes in itertools.product(_PLACEHOLDERS, repeat=len(names)):
        fill = _Fill(dict(zip(names, shapes, strict=True)))
        if works(fill.values()):
            return [fill]
    return []


def _flags(alternatives: list[list[str]]) -> str:
    """``--option a=... --option b=... (or --option c=...)``."""
    ways = [" ".join(f"--option {name}=..." for name in names) for names in alternatives]
    return ways[0] + "".join(f" (or {way})" for way in ways[1:])


def _refusal(error: ConfigurationError) -> str:
    """The preset's own words (without the settings path the command line never wrote)."""
    cause = error.__cause__
    return cause.message if isinstance(cause, ConfigurationError) else error.message


def _see(name: str) -> str:
    from ..services import PRESETS

    preset = PRESETS.get(name)
    return f" (see help(services.{preset.__name__}))" if preset is not None else ""


def preset_service(name: str, options: dict[str, Any], key: KeyInput) -> Service:
    """The preset ``name`` as ``mint`` needs it: able to sign users in, or a usage error naming
    each flag still needed (``frill needs --option hosts=...``)."""
    try:
        service = _build(name, options, key)
    except ConfigurationError as e:
        refused = _refusal(e)
    else:
        if service.issues:
            return service
        refused = service.hint or f"{name} only receives: it cannot sign users in."

    def issues(values: dict[str, str]) -> bool:
        built = _quietly(lambda: _build(name, {**options, **values}, key))
        return built is not None and bool(built.issues)

    fills = _gaps(name, options, issues)
    if fills:
        raise UsageError(f"{name} needs {_flags([list(f.shapes) for f in fills])}{_see(name)}")
    raise UsageError(refused)


def receiving_service(name: str, options: dict[str, Any], key: KeyInput,
                      accepts: Accepts) -> tuple[Service, TokenPolicy]:
    """The preset ``name`` as ``verify`` needs it, and what it accepts: the options given, and a
    placeholder for each missing one that changes nothing a receiver checks; an option that does
    change it is asked for by its flag."""
    try:
        service = _build(name, options, key)
        return service, accepts(service)
    except ConfigurationError as e:
        refused = _refusal(e)

    def receiver(values: dict[str, str]) -> TokenPolicy | None:
        """What the preset accepts with ``values`` filled in (``None``: it refuses them)."""
        found: TokenPolicy | None = _quietly(lambda: accepts(_build(name, {**options, **values}, key)))
        return found

    fills = _gaps(name, options, lambda values: receiver(values) is not None)
    if not fills:
        raise UsageError(refused)
    fill = _unless_needed(name, fills, receiver)
    service = _build(name, {**options, **fill.values()}, key)  # built once more, its warnings shown
    return service, accepts(service)


def _unless_needed(name: str, fills: list[_Fill],
                   receiver: Callable[[dict[str, str]], TokenPolicy | None]) -> _Fill:
    """The first fill, if neither a placeholder's value nor the choice between the fills changes
    what the receiver accepts; else a usage error naming the flags that do."""
    first = _accepted(receiver(fills[0].values()))
    changed: set[str] = set()
    for fill in fills[1:]:
        changed.update(_differences(first, _accepted(receiver(fill.values()))))
    choice = bool(changed)  # which of the fills the user gives matters
    per_fill: list[list[str]] = []
    for fill in fills:
        here = _accepted(receiver(fill.values()))
        varied = {option: _differences(here, _accepted(receiver(fill.values(vary=option))))
                  for option in fill.shapes}
        changed.update(*varied.values())
        per_fill.append([option for option, differs in varied.items() if differs])
    if not changed:
        return fills[0]
    asked = [list(fill.shapes) for fill in fills] if choice else [names for names in per_fill if names]
    known = sorted(changed - {_UNKNOWN})
    why = f"it changes the receiver's {', '.join(known)}" if known else "no placeholder can stand in for it"
    raise UsageError(f"verifying as {name} needs {_flags(asked)}: {why}{_see(name)}")


def _accepted(policy: TokenPolicy | None) -> dict[str, object] | None:
    """What a receiver accepts, comparable: each setting of its policy, its keys by what they verify."""
    if policy is None:
        return None
    return {f.name: _keys(getattr(policy, f.name)) if f.name == "keys" else getattr(policy, f.name)
            for f in fields(policy) if f.compare}


def _keys(keys: KeySet) -> tuple[tuple[object, ...], ...]:
    return tuple((key.kid, tuple(sorted(key.accepts)),
                  key.secret if key.secret is not None else json.dumps(key.public_jwk(), sort_keys=True))
                 for key in keys.keys)


def _differences(one: dict[str, object] | None, other: dict[str, object] | None) -> list[str]:
    """The settings in which two receivers differ (all of them when one could not be built)."""
    if one is None or other is None:
        return [_UNKNOWN] if one is not other else []
    return [name for name, value in one.items() if other.get(name) != value]


__all__ = ["Accepts", "preset_service", "receiving_service"]
