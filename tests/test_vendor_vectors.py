"""The vendors' own worked examples (``data/vendor_vectors.json``, each with its source): a
secret, an input and the output the vendor shows, reproduced by our presets exactly; and the one
documented pair that does not verify, pinned so the finding stays recorded."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from helpers import DATA, Clock

from sso_middleware import errors, services
from sso_middleware.keys import Key, ShortKeyWarning
from sso_middleware.placements import SignedPayload
from sso_middleware.snippets import user_hash
from sso_middleware.testing import StandIn, StandInRefused
from sso_middleware.tokens import sign

VECTORS: dict[str, Any] = json.loads((DATA / "vendor_vectors.json").read_text())


def test_every_vector_names_its_source() -> None:
    assert all(v["source"].startswith("https://") for v in VECTORS.values())


def test_discourse_connects_example_request_is_accepted_by_our_provider() -> None:
    v = VECTORS["discourse_connect_meta"]
    forum = services.discourse(secret=v["secret"], url="https://forum.acme.com")
    assert forum.keys is not None
    payload = forum.destination.placement
    assert isinstance(payload, SignedPayload)
    assert payload.decode(urlencode({"sso": v["sso"], "sig": v["sig"]}), forum.keys) == v["fields"]
    assert Key(v["secret"]).sign(v["sso"].encode()).hex() == v["sig"]  # the very bytes signed
    for sso, sig in ((v["sso"].rstrip("\n"), v["sig"]),  # the newline is part of what is signed
                     (v["sso"], v["sig"][:-1] + "0")):
        with pytest.raises(errors.InvalidSignature):
            payload.decode(urlencode({"sso": sso, "sig": sig}), forum.keys)


def test_invoiced_magic_links_example_token_is_reproduced_and_accepted() -> None:
    v = VECTORS["invoiced_magic_links_docs"]
    with pytest.warns(ShortKeyWarning):  # the docs' placeholder secret is 6 bytes
        key = Key(v["secret"])
    assert sign(v["payload"], key) == v["token"]  # byte for byte: header, key order, signature
    with pytest.warns(ShortKeyWarning):
        invoiced = services.invoiced(key=v["secret"], company="acme", customer_id="invoiced_id")
    url = f"https://acme.invoiced.com/login/{v['token']}"
    login = StandIn(invoiced, clock=Clock(v["payload"]["exp"] - 60)).follow(url)
    assert login.claims == v["payload"] and login.claims["sub"] == "1234567890"
    with pytest.raises(StandInRefused) as refused:
        StandIn(invoiced, clock=Clock(v["payload"]["exp"] + 3600)).follow(url)
    assert refused.value.code == "token_expired"


def test_intercoms_own_sample_hash_is_reproduced() -> None:
    v = VECTORS["intercom_identity_code_samples"]
    with pytest.warns(ShortKeyWarning):
        intercom = services.intercom_identity(key=v["secret"])
    assert user_hash(intercom, {"id": v["value"]})["user_hash"] == v["hex"]


def test_help_scouts_documented_signature_does_not_verify() -> None:
    """The older Secure Mode page's identify example does not match its own key; our preset
    computes what the page's code computes, and no reading of the page's inputs gives the
    page's value."""
    v = VECTORS["helpscout_beacon_legacy_page"]
    beacon = services.helpscout_beacon(key=v["secret"])
    mine = user_hash(beacon, {"id": 1, "email": v["value"], "name": v["name"]})["signature"]
    assert mine == hmac.new(v["secret"].encode(), v["value"].encode(), hashlib.sha256).hexdigest()
    assert v["verifies"] is False and mine != v["signature"]
    tried = v["tried"]
    for secret, value, digest in itertools.product(tried["secrets"], tried["values"], tried["digests"]):
        for key, message in ((secret, value), (value, secret)):
            assert hmac.new(key.encode(), message.encode(), digest).hexdigest() != v["signature"]
