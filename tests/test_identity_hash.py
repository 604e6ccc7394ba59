"""The HMAC identity family (``UserHash``): each widget's fields and the lower-case hex
HMAC-SHA256 of one of them, answered at ``{prefix}/{name}/token`` to the user's own pages, the
same through ``snippets.user_hash``, checked by each preset's stand-in, and computed again here
with the standard library's ``hmac`` (not our code), as the vendors' own examples do."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from helpers import USERS, Skin
from werkzeug.test import Client as WerkzeugClient

from sso_middleware import ConfigurationError, services
from sso_middleware.placements import UserHash
from sso_middleware.snippets import user_hash
from sso_middleware.testing import StandIn, StandInRefused

SECRET = "identity-verification-secret-0123456789"
PYLON = "9f2c" * 16  # Pylon shows its secret as hex
ADA = {"X-User": "ada"}
ADA_EMAIL = "ada@example.com"

# preset: (its answer besides the hash, the hash's key, the value hashed)
WIDGETS: dict[str, tuple[dict[str, str], str, str]] = {
    "helpscout_beacon": ({"email": "ada@example.com", "name": "Ada Lovelace"}, "signature", ADA_EMAIL),
    "front_chat": ({"email": "ada@example.com", "name": "Ada Lovelace"}, "userHash", ADA_EMAIL),
    "crisp": ({"email": "ada@example.com", "nickname": "Ada Lovelace"}, "signature", ADA_EMAIL),
    "chatwoot": ({"identifier": "7", "email": "ada@example.com", "name": "Ada Lovelace"},
                 "identifier_hash", "7"),
    "intercom_identity": ({"user_id": "7", "email": "ada@example.com", "name": "Ada Lovelace"},
                          "user_hash", "7"),
    "gleap": ({"userId": "7", "email": "ada@example.com", "name": "Ada Lovelace"}, "userHash", "7"),
    "novu": ({"subscriberId": "7"}, "subscriberHash", "7"),
    "pylon": ({"email": "ada@example.com", "name": "Ada Lovelace"}, "email_hash", ADA_EMAIL),
    "gainsight_px": ({"id": "7", "email": "ada@example.com"}, "userHash", "7"),
}


def build(name: str) -> services.Service:
    preset: Any = services.PRESETS[name]
    return preset(key=PYLON if name == "pylon" else SECRET)


def expected(name: str, value: str) -> str:
    secret = bytes.fromhex(PYLON) if name == "pylon" else SECRET.encode()  # Pylon: Buffer.from(secret, "hex")
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("name", sorted(WIDGETS))
def test_each_widget_gets_its_fields_and_the_hash_under_its_own_name(skin: Skin, name: str) -> None:
    fields, key, value = WIDGETS[name]
    response = skin.issuer(services=[build(name)]).get(f"/sso/{name}/token", headers=ADA)
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.json() == {**fields, key: expected(name, value)}  # no expiry: a hash has none
    assert user_hash(build(name), USERS["ada"]) == response.json()  # the template helper says the same
    login = StandIn(build(name)).follow(response)  # the widget hands it to the vendor
    assert login.claims == fields
    again = StandIn(build(name))
    assert again.follow(response).claims == fields and again.follow(response)  # again: vendors take it


def test_help_scouts_own_example_is_reproduced() -> None:
    # developer.helpscout.com/beacon-2/web/secure-mode/: OpenSSL::HMAC.hexdigest('sha256', secret, user.email)
    with pytest.warns(UserWarning, match="29 bytes"):  # the docs' placeholder is short: warned, used
        beacon = services.helpscout_beacon(key="secret_key_from_beacon_config")
    mine = user_hash(beacon, {"id": 1, "email": "email@email.com", "name": "Steve"})
    assert mine["signature"] == hmac.new(b"secret_key_from_beacon_config", b"email@email.com",
                                         hashlib.sha256).hexdigest()


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}],
                         ids=["cross-site", "foreign-origin"])
def test_hashes_go_to_our_own_pages_only(skin: Skin, headers: dict[str, str]) -> None:
    client = skin.issuer(services=[build("helpscout_beacon")])
    refused = client.get("/sso/helpscout_beacon/token", headers={**ADA, **headers})
    assert refused.status == 403 and "signature" not in refused.text
    anonymous = client.get("/sso/helpscout_beacon/token")
    assert anonymous.status == 401 and anonymous.json()["error"] == "not_authenticated"


def test_a_user_without_the_hashed_field_is_refused(skin: Skin) -> None:
    response = skin.issuer(services=[build("pylon")]).get("/sso/pylon/token", headers={"X-User": "bob"})
    assert response.status == 400 and response.json()["error"] == "missing_claim"
    with pytest.raises(Exception, match="email"):
        user_hash(build("pylon"), USERS["bob"])


def test_the_stand_in_refuses_a_wrong_or_malformed_hash() -> None:
    stand_in = StandIn(build("intercom_identity"))
    good = expected("intercom_identity", "7")
    client = WerkzeugClient(stand_in.app)
    json = {"Accept": "application/json"}
    for form, code in [
        ({"user_id": "8", "user_hash": good}, "token_bad_signature"),  # someone else's id
        ({"user_id": "7", "user_hash": good.upper()}, "token_invalid"),  # not lower-case hex
        ({"user_id": "7", "user_hash": expected("intercom_identity", "7")[:-1] + "0"}, "token_bad_signature"),
        ({"user_hash": good}, "token_missing_claim"),
    ]:
        answer = client.post("/", data=form, headers=json)
        assert answer.status_code in (400, 401) and answer.get_json()["error"] == code, form
    assert client.post("/", data={"user_id": "7", "user_hash": good}).status_code == 303
    with pytest.raises(StandInRefused):
        StandIn(build("intercom_identity")).follow("https://localhost/?user_id=7")


def test_configuration() -> None:
    with pytest.raises(ConfigurationError, match="hex string"):
        services.pylon(key="not-hex")
    with pytest.raises(ConfigurationError, match="two names"):
        UserHash("email", of="email")
    with pytest.raises(ValueError, match="not a user hash"):
        user_hash(services.intercom(key=SECRET), USERS["ada"])
    built = services.from_config({"beacon": {"preset": "helpscout_beacon", "key": SECRET}})
    assert built[0].destination.placement == UserHash("signature", of="email")
