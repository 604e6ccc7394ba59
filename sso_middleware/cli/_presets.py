"""A preset built from the command line, and which ``--option`` flags each command needs. Private.

``mint`` needs every option the preset needs to sign a user in. ``verify`` needs only the options
that decide what a receiver accepts: one that only says where the browser goes (Invoiced's
``company``, Frill's ``hosts``) is filled with a placeholder. Which options those are is found,
not listed per preset, by one rule: the missing options are filled with placeholders (a name, a
host, an https site) in two different ways, and an option whose value changes nothing a receiver
checks (:class:`~sso_middleware.tokens.TokenPolicy`: algorithms, keys and their ``kid``, ``iss``,
``aud``, ``typ``, required claims, ages) is not asked for. Anything that changes it is asked for,
by its flag; so is anything the placeholders cannot stand in for.

When no placeholders at all make the preset build (a key of the wrong type), the options still
missing are named by their flags all the same, with the preset's refusal of a build that has
placeholders for them: what is wrong besides them.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, MissingClaim
from ._common import UsageError

if TYPE_CHECKING:
    from ..keys import KeyInput, KeySet
    from ..principal import Principal
    from ..service import Service
    from ..tokens import TokenPolicy

Accepts = Callable[["Service"], "TokenPolicy"]
"""What ``verify`` checks a token with, for a service: its receiving policy with the command's options."""

_PLACEHOLDERS: tuple[Callable[[str], str], ...] = (
    "sso-placeholder-{}".format,  # a name, an id, a vendor subdomain
    "sso-placeholder-{}.example".format,  # a host (a setting's hosts may be one string)
    "https://sso-placeholder-{}.example".format,  # a site or a page
)
_TAKES_USER = re.compile(r"Callable\[\[(\w+\.)*Principal\]")  # (an annotation, as text or as a type)
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
    """``make()``, or ``None`` when it refuses the configuration (:func:`_trial`)."""
    return _trial(make)[0]


def _trial(make: Callable[[], Any]) -> tuple[Any, str | None]:
    """``(make(), None)``, or ``(None, the preset's words)`` when it refuses the configuration; its
    warnings (a short key) not shown: a trial build with placeholders is not the user's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return make(), None
        except ConfigurationError as e:
            return None, _refusal(e)


def _options(name: str) -> tuple[list[str], list[str]]:
    """The options the preset ``name`` requires (its key aside), and those that default to ``None``."""
    from ..services import PRESETS

    preset = PRESETS.get(name)
    if preset is None:
        return [], []
    parameters = inspect.signature(preset).parameters
    required = [n for n, p in parameters.items() if p.default is p.empty and n not in ("key", "secret")]
    return required, [n for n, p in parameters.items() if p.default is None]


def _check_names(name: str, options: Mapping[str, Any]) -> None:
    """A usage error for an option the preset does not take (a misspelling), named by its flag."""
    from ..services import PRESETS

    preset = PRESETS.get(name)
    takes = inspect.signature(preset).parameters if preset is not None else {}
    unknown = sorted(n for n in options if n not in takes)
    if preset is not None and unknown:
        flags = [f"--option {n}=..." for n in sorted(takes) if n not in ("key", "secret", "extra_claims")]
        raise UsageError(f"--option {unknown[0]}=...: {name} takes no such option; it takes "
                         f"{', '.join(flags)}{_see(name)}")


def _fills(name: str, works: Callable[[dict[str, str]], bool]) -> list[_Fill]:
    """The smallest sets of options the preset needs, each with the first placeholders with which
    ``works`` holds: every option it requires, and up to two of those that default to ``None``
    (Invoiced needs ``company`` or ``base_url``)."""
    required, maybe = _options(name)
    for size in range(_MAYBE + 1):
        found = [fill for extra in itertools.combinations(maybe, size)
                 for fill in _first_fill((*required, *extra), works)]
        if found:
            return found
    return []


def _gaps(name: str, given: Collection[str], works: Callable[[dict[str, str]], bool]) -> list[_Fill] | None:
    """Placeholders for what is missing besides the options ``given`` (kept as given), one fill per
    way the preset can be completed with the fewest flags more. ``None`` when no placeholders make
    it build at all; empty when a way needs nothing more than was given: then the values given are
    what the preset refuses, and its own message says why (a placeholder never overrides what was
    given)."""
    ways = [{n: s for n, s in fill.shapes.items() if n not in given} for fill in _fills(name, works)]
    if not ways:
        return None
    fewest = min(len(way) for way in ways)
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


def _unbuildable(name: str, given: Collection[str], refused: str,
                 make: Callable[[dict[str, str]], object]) -> UsageError:
    """The usage error when no placeholders make the preset build: its refusal ``refused`` when that
    is about an option given (a misspelled one, a wrong value: a placeholder never overrides what was
    given); else the options still missing, by their flags, with what else the preset refuses
    (:func:`_other_refusal`); else the options it requires, or ``refused``."""
    if _names_any(refused, given):  # (a misspelled option is named before: _check_names)
        return UsageError(refused)
    found = _other_refusal(name, given, make)
    if found is not None:
        names, why = found
        if not names:
            return UsageError(why)
        return UsageError(f"{_needs(name, [names])}; with {'it' if len(names) == 1 else 'them'}, it "
                          f"still refuses: {why}")
    missing = [n for n in _options(name)[0] if n not in given]
    return UsageError(_needs(name, [missing]) if missing else refused)


def _other_refusal(name: str, given: Collection[str],
                   make: Callable[[dict[str, str]], object]) -> tuple[list[str], str] | None:
    """The options filled and the preset's refusal of ``make`` with placeholders for options not
    ``given``: the first (in the order :func:`_fills` tries) that is not about one of them (it
    names none of the options not given, as a refused key does)."""
    required, maybe = _options(name)
    missing = [n for n in required if n not in given]
    extras = [n for n in maybe if n not in given]
    absent = [*missing, *extras]
    for size in range(_MAYBE + 1):
        for names in ([*missing, *extra] for extra in itertools.combinations(extras, size)):
            for shapes in itertools.product(_PLACEHOLDERS, repeat=len(names)):
                why = _trial(partial(make, _Fill(dict(zip(names, shapes, strict=True))).values()))[1]
                if why is not None and "sso-placeholder" not in why and not _names_any(why, absent):
                    return names, why
    return None


def _names_any(text: str, options: Collection[str]) -> bool:
    return any(re.search(rf"\b{re.escape(option)}\b", text) for option in options)


def _needs(name: str, alternatives: list[list[str]]) -> str:
    """``frill needs --option hosts=... (see help(services.frill))``, with a word on an option whose
    value names an attribute of the user (Invoiced's ``customer_id``)."""
    named = [option for option in _attribute_options(name) if any(option in names for names in alternatives)]
    return f"{name} needs {_flags(alternatives)}{_see(name)}" + "".join(
        f"; {_attribute_words(name, option)}" for option in named)


def _attribute_options(name: str) -> list[str]:
    """The preset's options whose value is the name of an attribute of the user (or a callable, which
    the command line cannot give)."""
    from ..services import PRESETS

    preset = PRESETS.get(name)
    parameters = inspect.signature(preset).parameters if preset is not None else {}
    return [n for n, p in parameters.items() if _TAKES_USER.search(str(p.annotation)) and n != "extra_claims"]


def _attribute_words(name: str, option: str) -> str:
    example = f"{name}_id"
    return (f"{option} names an attribute of the user (not its value), which --user-json must carry, e.g. "
            f"--option {option}={example} --user-json '{{\"id\": 7, \"{example}\": 1234}}'")


def _attributes(name: str, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(option, attribute)`` for each option given that names an attribute of the user; a usage
    error for one given a value that is no name (``customer_id=1234``)."""
    found = []
    for option in _attribute_options(name):
        value = options.get(option)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise UsageError(f"--option {option}={json.dumps(value)}: {_attribute_words(name, option)}")
        found.append((option, value))
    return found


def check_attributes(name: str, options: Mapping[str, Any], user: Principal) -> None:
    """A usage error when an option that names an attribute of the user (Invoiced's ``customer_id``)
    names one ``user`` (``--user-json``) does not carry."""
    from ..service import need

    for option, attribute in _attributes(name, options):
        try:
            need(user, attribute)  # (as the preset reads it)
        except MissingClaim:
            raise UsageError(f"--user-json has no {attribute!r}, the attribute of the user --option "
                             f"{option}={attribute} names: give it, e.g. --user-json "
                             f"'{{\"id\": 7, {json.dumps(attribute)}: 1234}}'") from None


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
    _check_names(name, options)
    _attributes(name, options)  # (the preset's own words would not say what to give)
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
    if fills is None:
        raise _unbuildable(name, options, refused, lambda values: _build(name, {**options, **values}, key))
    if fills:
        raise UsageError(_needs(name, [list(f.shapes) for f in fills]))
    raise UsageError(refused)


def receiving_service(name: str, options: dict[str, Any], key: KeyInput,
                      accepts: Accepts) -> tuple[Service, TokenPolicy]:
    """The preset ``name`` as ``verify`` needs it, and what it accepts: the options given, and a
    placeholder for each missing one that changes nothing a receiver checks; an option that does
    change it is asked for by its flag."""
    _check_names(name, options)
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
    if fills is None:
        raise _unbuildable(name, options, refused,
                           lambda values: accepts(_build(name, {**options, **values}, key)))
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


__all__ = ["Accepts", "check_attributes", "preset_service", "receiving_service"]
