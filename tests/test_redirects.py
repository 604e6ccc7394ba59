from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote_plus, urlencode

import pytest
from helpers import DJANGO, PAYLOADS
from hypothesis import given, settings
from hypothesis import strategies as st

from sso_middleware.errors import BadRequest, ConfigurationError, RedirectNotAllowed
from sso_middleware.messages import parse_query
from sso_middleware.redirects import (
    AllowedHosts,
    check_url,
    safe_relative_path,
    with_params,
    without_params,
)

HOSTS = AllowedHosts(["testserver", "testserver2", "feedback.acme.com", "*.frill.co",
                      "127.0.0.1:8000"])

# Open-redirect payloads beyond Django's (PortSwigger, OWASP cheat sheet, parser differentials).


@pytest.mark.parametrize("url", DJANGO["bad"] + DJANGO["insecure_with_require_https"])
def test_django_unsafe_cases_are_refused(url: str) -> None:
    with pytest.raises(RedirectNotAllowed):
        check_url(url, HOSTS)


@pytest.mark.parametrize("url", DJANGO["good"])
def test_django_safe_cases_carry_a_token_only_when_absolute_https(url: str) -> None:
    # Django accepts relative, scheme-relative and http URLs here; a token goes to none of them.
    if url.lower().startswith("https://testserver/"):
        assert check_url(url, HOSTS) == url
    else:
        with pytest.raises(RedirectNotAllowed):
            check_url(url, HOSTS)


@pytest.mark.parametrize("url", PAYLOADS)
def test_open_redirect_payloads_refused(url: str) -> None:
    with pytest.raises(RedirectNotAllowed):
        check_url(url, HOSTS)


@pytest.mark.parametrize(
    "url",
    [
        "https://feedback.acme.com",
        "https://feedback.acme.com/",
        "HTTPS://Feedback.Acme.com/b/roadmap?x=1&y=%20z#top",
        "https://feedback.acme.com:443/path",
        "https://acme.frill.co/b/ideas",
        "https://deep.acme.frill.co/",
        "https://testserver/confirm?email=me%40example.com",
        "http://127.0.0.1:8000/frill/",
        "https://127.0.0.1:8000/",
    ],
)
def test_allowed_urls_pass_unchanged(url: str) -> None:
    assert check_url(url, HOSTS) == url


def test_django_secure_cases_pass_with_their_host() -> None:
    hosts = AllowedHosts(["example.com"])
    for url in DJANGO["secure_with_require_https"]:
        if url.lower().startswith("https://"):
            assert check_url(url, hosts) == url


def test_http_only_for_loopback() -> None:
    with pytest.raises(RedirectNotAllowed):
        check_url("http://intranet:8000/", AllowedHosts(["intranet:8000"]))
    assert check_url("http://localhost:5000/x", AllowedHosts(["localhost:5000"]))
    assert check_url("http://[::1]:5000/x", AllowedHosts(["[::1]:5000"]))


@pytest.mark.parametrize(
    "pattern",
    ["https://feedback.acme.com", "feedback.acme.com/", "*.com", "*", "a b.com", "acme.com.",
     "*.acme.com:443", "user@acme.com", "acme.com:0", "acme.com:x", "", "[zz]", "ac\\me.com",
     "acme.com:\u00b2", "acme.com:\u0661\u0662", "[::1]:\u00b2", "acme.com:\uff18\uff10"],
)
def test_bad_host_patterns_refused_at_construction(pattern: str) -> None:
    with pytest.raises(ConfigurationError, match="host pattern"):
        AllowedHosts([pattern])


def test_hosts_as_bare_string_refused() -> None:
    with pytest.raises(ConfigurationError, match="list"):
        AllowedHosts("feedback.acme.com")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/", "/"),
        ("/b/roadmap?x=1", "/b/roadmap?x=1"),
        ("//evil.com", None),
        ("/\\evil.com", None),
        ("\\\\evil.com", None),
        ("https://evil.com", None),
        ("evil.com", None),
        ("/\t/evil.com", None),
        ("/%0a/evil", "/%0a/evil"),
        ("/a b", None),
        ("", None),
        (None, None),
        ("/" + "a" * 3000, None),
    ],
)
def test_safe_relative_path(value: str | None, expected: str | None) -> None:
    assert safe_relative_path(value) == expected


@pytest.mark.parametrize("url", DJANGO["bad"])
def test_django_bad_cases_are_not_safe_relative_paths(url: str) -> None:
    assert safe_relative_path(url) is None


def test_with_params_keeps_existing_query_and_replaces_planted_token() -> None:
    url = "https://b.acme.com/p?a=1&b=x%20y&ssoToken=planted&c=&ssoToken=again#frag"
    assert with_params(url, [("ssoToken", "t.o-k_en")]) == (
        "https://b.acme.com/p?a=1&b=x%20y&c=&ssoToken=t.o-k_en#frag"
    )
    assert with_params("https://b.acme.com", [("next", "/a?b=c&d")]) == (
        "https://b.acme.com?next=%2Fa%3Fb%3Dc%26d"
    )


def test_without_params() -> None:
    assert without_params("/p?ssoToken=abc&x=1", ["ssoToken"]) == "/p?x=1"
    assert without_params("/p?ssoToken=abc", ["ssoToken"]) == "/p"
    assert without_params("/p", ["ssoToken"]) == "/p"


def test_first_is_the_first_listed_exact_host() -> None:
    assert AllowedHosts(["*.frill.co", "zeta.example.com", "alpha.example.com"]).first() == (
        "zeta.example.com"
    )
    assert AllowedHosts(["*.frill.co"]).first() is None


# -- the quick paths of the issue path say what the standard library says ----------------------

_QUERY_TEXT = st.text(alphabet="ab=&%+2F0Ae7fz;\x00\x80é ", max_size=24)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=3))
def test_appended_parameters_are_written_as_urlencode_writes_them(params: list[tuple[str, str]]) -> None:
    expected = f"https://feedback.acme.com/b?{urlencode(params, quote_via=quote)}" if params else (
        "https://feedback.acme.com/b")
    assert with_params("https://feedback.acme.com/b", params) == expected


@settings(max_examples=300, deadline=None)
@given(_QUERY_TEXT, st.lists(st.sampled_from(["a", "b", "", " ", "a b", "/"]), max_size=3))
def test_query_parameters_are_read_as_parse_qsl_reads_them(query: str, names: list[str]) -> None:
    wanted = set(names)
    pairs = [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name in wanted]
    if len({name for name, _ in pairs}) < len(pairs):
        with pytest.raises(BadRequest):
            parse_query(query, names)
    else:
        assert parse_query(query, names) == dict(pairs)


@settings(max_examples=300, deadline=None)
@given(_QUERY_TEXT)
def test_values_are_unquoted_as_unquote_plus_does(text: str) -> None:
    assert parse_query(f"v={text.replace('&', '')}", ["v"])["v"] == unquote_plus(text.replace("&", ""))
