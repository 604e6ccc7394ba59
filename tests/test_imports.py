"""Every public import path a user has: each module and each name its ``__all__`` listed.

The table is data, taken from the tree before the services and CLI moved into packages
(issue 24): a module that moves leaves a path behind that still imports, with the same names.
Add to it; never take from it.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC: dict[str, list[str]] = {
    "sso_middleware": ["ConfigurationError", "Key", "Login", "MemoryReplayStore", "Principal",
        "RedisReplayStore", "RequestError", "SSOError", "Service", "services"],
    "sso_middleware.__main__": ["main"],
    "sso_middleware.asgi": ["IssuerMiddleware", "PRINCIPAL_KEY", "SSOUser", "VerifierMiddleware"],
    "sso_middleware.base64url": ["decode", "encode", "encode_bytes"],
    "sso_middleware.dates": ["OUT_OF_RANGE", "ago", "number", "stamp", "when"],
    "sso_middleware.demo": ["DemoServer", "build", "run"],
    "sso_middleware.errors": ["BadRequest", "ConfigurationError", "CrossSiteRequest", "InvalidAlgorithm",
        "InvalidClaim", "InvalidSignature", "InvalidToken", "KeysUnavailable", "MethodNotAllowed",
        "MissingClaim", "MissingTokenClaim", "NotAuthenticated", "RedirectMissing", "RedirectNotAllowed",
        "ReplayStoreFull", "ReplayStoreUnavailable", "RequestError", "SSOError", "SessionRevoked",
        "SignOutRefused", "TokenExpired", "TokenLifetimeTooLong", "TokenMissing", "TokenNotYetValid",
        "TokenReplayed", "TokenTooLarge", "UnknownKey"],
    "sso_middleware.explain": ["OUT_OF_RANGE", "Report", "Step", "ago", "explain", "number", "stamp",
        "when"],
    "sso_middleware.extractors": ["bottle_cookie", "django_user", "falcon_user", "flask_login_user",
        "flask_session", "litestar_session", "litestar_session_auth", "litestar_user", "pyramid_user",
        "quart_session", "quart_user", "remote_user", "scope_user", "session_key"],
    "sso_middleware.extractors.bottle": ["bottle_cookie"],
    "sso_middleware.extractors.django": ["django_user"],
    "sso_middleware.extractors.environ": ["remote_user"],
    "sso_middleware.extractors.falcon": ["falcon_user"],
    "sso_middleware.extractors.flask": ["flask_login_user", "flask_session"],
    "sso_middleware.extractors.litestar": ["issuer_plugin", "litestar_session", "litestar_session_auth",
        "litestar_user"],
    "sso_middleware.extractors.pyramid": ["pyramid_user"],
    "sso_middleware.extractors.quart": ["quart_session", "quart_user"],
    "sso_middleware.extractors.starlette": ["scope_user", "session_key"],
    "sso_middleware.flows": ["IssuerMiddleware", "Login", "Route", "StoreCall", "VerifierMiddleware",
        "check_prefix", "default_cookie_name", "generic_receiver", "wall_clock"],
    "sso_middleware.jwks": ["Fetch", "JWKS_MAX_AGE", "JWKS_PATH", "RemoteKeys", "fetch_url", "parse",
        "published"],
    "sso_middleware.keys": ["ALGORITHMS", "HMAC_ALGORITHMS", "Key", "KeyInput", "KeySet",
        "ShortKeyWarning", "is_pair", "same_secret", "thumbprint"],
    "sso_middleware.lint": ["Finding", "Lint", "SHARED_DOMAINS", "layers", "lint"],
    "sso_middleware.messages": ["FormReader", "MAX_FORM", "MAX_QUERY", "PRINCIPAL_KEY", "Reply", "Request",
        "parse_query", "post_form", "redirect", "same_origin", "wants_json"],
    "sso_middleware.oidc": ["Client", "Endpoint", "OpenIDProvider", "StoreCall"],
    "sso_middleware.oidc.consent": ["CONSENT_TTL", "consent", "origin", "sentence"],
    "sso_middleware.oidc.freshness": ["MARK_TTL", "CannotTell", "MustSignIn", "app_auth_time",
        "authenticated_at", "needs_sign_in"],
    "sso_middleware.oidc.logout": ["EndSession", "InvalidLogoutRequest", "SignOutFailed", "hint_policies",
        "read_hint"],
    "sso_middleware.oidc.marks": ["CONSENT", "DECISION", "FIELDS", "LOGIN", "LOGOUT", "Mark", "Marks",
        "bound", "every"],
    "sso_middleware.oidc.webfinger": ["BadResource", "ISSUER_REL", "LookupFailed", "UnknownResource",
        "WEBFINGER_PATH", "WebFinger", "check_domains"],
    "sso_middleware.pages": ["ConfirmPageHook", "ConfirmView", "ErrorPage", "ErrorPageHook", "ErrorPages",
        "confirm_reply", "default_confirm_page", "default_page", "notice_reply"],
    "sso_middleware.placements": ["FormField", "Fragment", "Inbound", "MAX_PAYLOAD", "NONCE_LIFETIME",
        "PathSegment", "Placement", "QueryParameter", "SignedPayload", "TOKEN", "TokenEndpoint",
        "fragment_bridge"],
    "sso_middleware.principal": ["Principal", "encodable"],
    "sso_middleware.redirects": ["AllowedHosts", "MAX_URL_LENGTH", "absolute_url", "check_url", "host_key",
        "safe_relative_path", "split_netloc", "with_params", "without_params"],
    "sso_middleware.redis_store": ["RedisReplayStore"],
    "sso_middleware.relying_party": ["Answer", "OpenIDLogin", "RelyingParty", "RelyingPartyRefused",
        "half_hash"],
    "sso_middleware.replay": ["MemoryReplayStore", "NEVER", "ReplayStore", "SharedStateWarning", "digest",
        "several_workers"],
    "sso_middleware.service": ["ClaimBuilder", "Destination", "ExtraClaims", "Pending", "ReturnRules",
        "Service", "TenantHosts", "TenantKey", "TokenRules", "generic", "need", "optional"],
    "sso_middleware.services": ["ClaimBuilder", "Destination", "ExtraClaims", "FormField", "Fragment",
        "PRESETS", "PathSegment", "Pending", "QueryParameter", "ReturnRules", "Service", "SignedPayload",
        "TenantHosts", "TenantKey", "TokenEndpoint", "TokenRules", "canny", "discourse", "featurebase",
        "freshworks", "frill", "from_config", "generic", "gitbook", "grafana", "helpscout", "intercom",
        "invoiced", "launchnotes", "metabase", "mintlify", "need", "optional", "productlane", "tableau",
        "upvoty", "userback", "userjot", "uservoice", "zendesk"],
    "sso_middleware.serving": ["RedactingRequestHandler", "local_server", "redact"],
    "sso_middleware.session": ["Session", "Sessions", "cookie_values", "user_key"],
    "sso_middleware.snippets": ["token_script"],
    "sso_middleware.steps": ["AppCall", "Steps", "adrive", "drive"],
    "sso_middleware.testing": ["LiveStandIn", "OpenIDLogin", "RelyingParty", "RelyingPartyRefused", "StandIn",
        "StandInRefused"],
    "sso_middleware.tokens": ["CLAIM_CHECKS", "Checked", "ClaimCheck", "MAX_IDENTITY_LENGTH",
        "MAX_JSON_DEPTH", "MAX_TOKEN_LENGTH", "OwnTokens", "Parts", "TOKEN_GATES", "TokenGate", "TokenPolicy",
        "Verified", "b64encode", "check_claims", "check_header", "check_seconds", "json_value",
        "looks_like_token", "named_kid", "peek", "segment_json", "sign", "split", "verify"],
    "sso_middleware.wiring": ["app_protocol", "check_app", "check_extractor", "check_hook", "for_skin",
        "framework", "wrapped"],
    "sso_middleware.wsgi": ["IssuerMiddleware", "PRINCIPAL_KEY", "VerifierMiddleware"],
}


@pytest.mark.parametrize(("module", "names"), PUBLIC.items(), ids=list(PUBLIC))
def test_every_public_name_still_imports(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in names if not hasattr(imported, name)]
    assert not missing, f"from {module} import ... no longer finds {missing}"


STARRED = {module: names for module, names in PUBLIC.items() if module != "sso_middleware.__main__"}


@pytest.mark.parametrize(("module", "names"), STARRED.items(), ids=list(STARRED))
def test_star_imports_keep_their_names(module: str, names: list[str]) -> None:
    found: dict[str, object] = {}
    exec(f"from {module} import *", found)  # what `import *` gives is what __all__ promises
    assert set(names) <= set(found), sorted(set(names) - set(found))


def test_every_vendor_module_is_a_registered_preset() -> None:
    """A preset added to ``services/`` is found by ``from_config`` and exported (one place: the façade)."""
    import pkgutil

    from sso_middleware import services

    for found in pkgutil.iter_modules(services.__path__):
        if found.name.startswith("_"):
            continue
        module = importlib.import_module(f"sso_middleware.services.{found.name}")
        assert module.__all__ == [found.name], f"services/{found.name}.py holds the preset {found.name}"
        assert services.PRESETS[found.name] is getattr(services, found.name) is getattr(module, found.name)
        assert found.name in services.__all__
