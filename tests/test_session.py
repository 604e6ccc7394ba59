from __future__ import annotations

from http.cookies import SimpleCookie

from helpers import KEY
from hypothesis import given, settings
from hypothesis import strategies as st

from sso_middleware.keys import Key
from sso_middleware.principal import Principal
from sso_middleware.session import Sessions, cookie_values

NOW = 1_800_000_000.0


def _value(set_cookie: str) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(set_cookie)
    (morsel,) = cookie.values()
    return morsel.value


def test_cookie_attributes_and_fresh_sid() -> None:
    sessions = Sessions(Key(KEY))
    a = sessions.open(Principal(7, "ada@example.com", "Ada"), "frill", NOW, secure=True)
    b = sessions.open(Principal(7, "ada@example.com", "Ada"), "frill", NOW, secure=True)
    assert _value(a) != _value(b)  # a new session id every login
    for part in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=28800"):
        assert part in a
    assert len(a) < 1024
    assert a.startswith("__Host-sso_session=")  # on https only this host can set it


def test_https_reads_only_the_host_prefixed_cookie() -> None:
    sessions = Sessions(Key(KEY))
    plain = _value(sessions.open(Principal(7), "frill", NOW, secure=False))
    hosted = _value(sessions.open(Principal(8), "frill", NOW, secure=True))
    same = lambda p: p  # noqa: E731
    # a plain-named cookie (which a sibling subdomain could plant) is not a session on https ...
    assert sessions.read(f"sso_session={plain}", NOW, same, True) == (None, False)
    # ... the __Host- one is, and the same header read over http is not confused by the cache
    header = f"sso_session={plain}; __Host-sso_session={hosted}"
    assert sessions.read(header, NOW, same, True)[0].view.id == 8  # type: ignore[union-attr]
    assert sessions.read(header, NOW, same, False)[0].view.id == 7  # type: ignore[union-attr]


def test_cache_is_bounded_and_honours_expiry() -> None:
    sessions = Sessions(Key(KEY), cache_size=2, max_age=100)
    headers = [
        f"other=1; sso_session={_value(sessions.open(Principal(i), 'svc', NOW, False))}" for i in range(3)
    ]
    for i, header in enumerate(headers):
        session, sent = sessions.read(header, NOW + 1, lambda p: p)
        assert sent and session is not None and session.view.id == i
    assert len(sessions._caches[False]) == 2 and headers[0] not in sessions._caches[False]
    assert sessions.read(headers[2], NOW + 100, lambda p: p)[0] is not None
    assert sessions.read(headers[2], NOW + 101, lambda p: p) == (None, True)


def test_long_fields_are_left_out_of_the_cookie() -> None:
    sessions = Sessions(Key(KEY))
    cookie = sessions.open(Principal(1, "a" * 300 + "@example.com", "Ada"), "svc", NOW, False)
    session, _ = sessions.read(f"sso_session={_value(cookie)}", NOW, lambda p: p)
    assert session is not None and session.view.email is None and session.view.name == "Ada"


def test_no_session_cookie() -> None:
    sessions = Sessions(Key(KEY))
    assert sessions.read("theme=dark", NOW, lambda p: p) == (None, False)
    assert sessions.read("sso_session=", NOW, lambda p: p) == (None, False)


def test_a_session_is_read_back_the_same_millisecond_and_on_a_host_a_little_behind() -> None:
    """iat was rounded to the nearest millisecond, so the next request could come "before" it
    (the session then looked not yet valid: a test failed about once in 50 runs); another host's
    clock a little behind did the same."""
    sessions = Sessions(Key("session-key-0123456789-abcdefghijklmnopq"))
    cookie = sessions.open(Principal("ada"), "sso", 1000.0006, False).split(";")[0]
    session, _ = Sessions(sessions.key).read(cookie, 1000.0007, Principal.coerce)
    assert session is not None and session.opened == 1000.0  # rounded down: revocation errs safe
    assert Sessions(sessions.key).read(cookie, 1000.0007 - 4, Principal.coerce)[0] is not None
    assert Sessions(sessions.key).read(cookie, 1000.0007 - 6, Principal.coerce)[0] is None


def _split_values(header: str, name: str) -> list[str]:
    """What a ``Cookie`` header holds for ``name``, read the plain way: each ``;``-separated part
    whose name, stripped, is ``name``; its value after the first ``=``, stripped."""
    found = []
    for part in header.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            found.append(value.strip())
    return found


_COOKIE_TEXT = st.text(
    alphabet=st.sampled_from(list("sso_ion=; \t\n\x0b\x0c\r\x1c\x85\xa0\u2003ab.-_=é")), max_size=40)


@settings(derandomize=True, max_examples=600, deadline=None)
@given(before=_COOKIE_TEXT, after=_COOKIE_TEXT, value=_COOKIE_TEXT,
       name=st.sampled_from(["sso_session", "__Host-sso_session", "s", "sso_session_frill_nonce", "",
                             "a;b", "a=b", " s", "s\t", "a.b", "(s)+"]))
def test_cookie_values_reads_a_header_as_the_plain_split_does(before: str, after: str, value: str,
                                                              name: str) -> None:
    """The compiled pattern answers as ``split(";")`` + ``partition("=")`` + ``strip()`` would,
    whitespace of every kind (what ``str.strip`` strips) included."""
    for header in (f"{before}{name}={value}{after}", f"{before}; {name} ={value};{after}", before + after):
        assert cookie_values(header, name) == _split_values(header, name)


def test_the_session_reads_its_cookie_as_cookie_values_does() -> None:
    sessions = Sessions(Key(KEY))
    cookie = _value(sessions.open(Principal(1, "a@example.com", "A"), "svc", NOW, False))
    for header in (f"sso_session={cookie}", f"a=1;\t sso_session = {cookie} ;b=2",
                   f"sso_session={cookie}; x=y"):
        session, sent = sessions.read(header, NOW, lambda p: p)
        assert sent and session is not None and session.view.id == 1, header
        assert cookie_values(header, "sso_session") == [cookie]
