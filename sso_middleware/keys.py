"""Keys: HMAC secrets (the configured string's bytes) and key pairs (RSA, EC, Ed25519).

Each :class:`Key` is bound to one algorithm when it is built: an RSA public
key can never be used as an HMAC secret, nor an EC key for RS256. A key pair
gets a ``kid`` (its RFC 7638 thumbprint unless given) and publishes its public
half as a JWK. Key pairs use ``cryptography`` (a dependency, through PyJWT's
``crypto`` extra); nothing here imports it until one is used.

A shared secret given as text is refused when whitespace surrounds it
(``open("frill.key").read()``, a copied ``.env`` line): the service's copy has
none, and every token would fail its signature check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

from jwt.algorithms import HMACAlgorithm

from .base64url import encode
from .errors import ConfigurationError

Algorithm = Literal[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448",
]

_HASHES: dict[str, Any] = {
    "HS256": HMACAlgorithm.SHA256,
    "HS384": HMACAlgorithm.SHA384,
    "HS512": HMACAlgorithm.SHA512,
}
# algorithm -> (JWK key type, the hash's bits, the EC curve it requires)
_PAIRS: dict[str, tuple[str, int, str | None]] = {
    "RS256": ("RSA", 256, None), "RS384": ("RSA", 384, None), "RS512": ("RSA", 512, None),
    "PS256": ("RSA", 256, None), "PS384": ("RSA", 384, None), "PS512": ("RSA", 512, None),
    "ES256": ("EC", 256, "P-256"), "ES384": ("EC", 384, "P-384"), "ES512": ("EC", 512, "P-521"),
    "EdDSA": ("OKP", 0, None), "Ed25519": ("OKP", 0, "Ed25519"), "Ed448": ("OKP", 0, "Ed448"),
}
# RFC 9864 names EdDSA on each curve, and deprecates the polymorphic "EdDSA": both names are
# one computation for a given key, so an Edwards key verifies tokens that use either
_ALSO_ACCEPTS = {"Ed25519": frozenset({"EdDSA", "Ed25519"}), "Ed448": frozenset({"EdDSA", "Ed448"})}
HMAC_ALGORITHMS: frozenset[str] = frozenset(_HASHES)
ALGORITHMS: frozenset[str] = HMAC_ALGORITHMS | frozenset(_PAIRS)
"""Algorithms this library signs and verifies (``none`` never)."""
MIN_RSA_BITS = 2048
_DEFAULT_FOR = {"RSA": "RS256", "P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "Ed25519": "EdDSA",
                "Ed448": "EdDSA"}
# RFC 7638 3.2: the members of each key type's thumbprint, in lexicographic order
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}

# Asymmetric key material given where a shared secret belongs (PyJWT would refuse it per call).
_KEY_MATERIAL = (b"-----BEGIN", b"ssh-rsa", b"ssh-ed25519", b"ecdsa-sha2-")


class ShortKeyWarning(UserWarning):
    """A key is shorter than its algorithm's hash output (RFC 7518 §3.2)."""


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: a ``kid`` derived from the key.

    RFC 8037 A.3's example:

    >>> thumbprint({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k'
    """
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(str(kty))
    if members is None:
        raise ConfigurationError(f"no thumbprint for a key of type {kty!r}.")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return encode(hashlib.sha256(canonical.encode("utf-8")).digest())


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stacklevel() -> int:
    """The ``stacklevel`` for a warning raised by the caller that names the first line outside this
    package: the user's ``Key(...)``, ``services.frill(...)`` or ``VerifierMiddleware(...)``,
    however many of our frames lie between."""
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def stray_whitespace(secret: str | bytes) -> str | None:
    """How whitespace surrounds a shared secret given as text, or ``None``: the one rule for the
    library and the command line. A newline left by a file or a copied ``.env`` line would be
    signed with, and the service, whose copy has none, answers "bad signature". Random bytes
    (``secrets.token_bytes``) are not text, and may start or end with any byte.

    >>> print(stray_whitespace("s3cret\\n"), stray_whitespace(b" s3cret\\r\\n"), sep="; ")
    ends with '\\n'; starts with ' ' and ends with '\\r\\n'
    >>> stray_whitespace("s3cret") is None
    True
    """
    if isinstance(secret, bytes):
        try:
            text = secret.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not text.strip().isprintable():
            return None
    else:
        text = secret
    if text.strip() == text:
        return None
    if not text.strip():
        return f"is only whitespace ({text!r})"
    head, tail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
    return " and ".join(f"{where} with {part!r}" for where, part in (("starts", head), ("ends", tail))
                        if part)


def _crypto(field: str) -> Any:
    """PyJWT's asymmetric algorithms, or a configuration error saying how to get them."""
    from jwt import algorithms

    if not algorithms.has_crypto:
        raise ConfigurationError(
            f"{field}: key pairs (RS/PS/ES/EdDSA) need the 'cryptography' package, a dependency of "
            "sso-middleware that is missing from this environment (or cannot be imported): "
            "pip install cryptography, or reinstall sso-middleware."
        )
    return algorithms


def _check_options(algorithm: str | None, kid: str | None, field: str) -> None:
    """An algorithm given is one this library takes; a ``kid`` given is a non-empty printable string."""
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise ConfigurationError(
            f"{field}: algorithm {algorithm!r} is not supported; use one of "
            f"{', '.join(sorted(ALGORITHMS))}."
        )
    if kid is not None and (not isinstance(kid, str) or not kid or not kid.isprintable()):
        raise ConfigurationError(f"{field}: kid must be a non-empty printable string.")


def _secret_algorithm(algorithm: str | None, field: str) -> str:
    """The HMAC algorithm a shared secret signs with (HS256 unless named); a key pair's is refused."""
    if algorithm is not None and algorithm not in _HASHES:
        raise ConfigurationError(
            f"{field}: {algorithm} signs with a key pair: pass its private key as PEM or a "
            "JWK (sso-middleware keygen --algorithm ... makes one), not a shared secret."
        )
    return algorithm or "HS256"


def _pair_options(
    material: Any, kid: str | None, algorithm: str | None, field: str
) -> tuple[str | None, str | None]:
    """A key pair's ``kid`` and algorithm: as given, else as its JWK names them; an HMAC one is refused."""
    if algorithm in _HASHES:
        raise ConfigurationError(
            f"{field}: this looks like a PEM, SSH or JWK key, not a shared secret. HMAC "
            "algorithms (HS256/384/512) take the secret string the service gave you."
        )
    if isinstance(material, Mapping):  # a JWK names its own kid and alg, when it does
        kid = kid if kid is not None else material.get("kid")
        algorithm = algorithm if algorithm is not None else material.get("alg")
        if algorithm is not None and algorithm not in _PAIRS:
            raise ConfigurationError(f"{field}: this JWK's alg {algorithm!r} is not one of "
                                     f"{', '.join(sorted(_PAIRS))}.")
        if kid is not None and (not isinstance(kid, str) or not kid.isprintable()):
            raise ConfigurationError(f"{field}: this JWK's kid must be a printable string.")
    return kid, algorithm


def _pair_shape(key: Any, field: str) -> tuple[str, str, int]:
    """A key object's JWK type, curve (``RSA`` for RSA) and signature size in bytes; RSA keys
    under :data:`MIN_RSA_BITS` are refused."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < MIN_RSA_BITS:
            raise ConfigurationError(
                f"{field}: this RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are "
                "required (NIST SP 800-131A). Make a new one: sso-middleware keygen --algorithm RS256."
            )
        return "RSA", "RSA", key.key_size // 8
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(
            key.curve.name, key.curve.name)
        return "EC", curve, 2 * ((key.curve.key_size + 7) // 8)
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "OKP", "Ed25519", 64
    if isinstance(key, (ed448.Ed448PrivateKey, ed448.Ed448PublicKey)):
        return "OKP", "Ed448", 114
    raise ConfigurationError(f"{field}: a {type(key).__name__} cannot sign JWTs here.")


def _pair_algorithm(algorithm: str | None, kind: str, curve: str, field: str) -> tuple[str, int]:
    """The algorithm a key of this type and curve signs (the one named, else its default) and
    its hash's bits; an algorithm the key cannot sign is refused."""
    algorithm = algorithm or _DEFAULT_FOR.get(curve)
    expected = _PAIRS.get(algorithm or "")
    if algorithm is None or expected is None or expected[0] != kind or (
        expected[2] is not None and expected[2] != curve
    ):
        raise ConfigurationError(
            f"{field}: a {curve} key cannot sign {algorithm}"
            + (f" ({algorithm} needs {expected[2] or expected[0]})" if expected else "")
            + f"; it signs {_DEFAULT_FOR.get(curve, 'nothing this library takes')}."
        )
    return algorithm, expected[1]


def _pair_verifier(algorithms: Any, kind: str, algorithm: str, bits: int) -> Any:
    """PyJWT's algorithm object that signs and verifies ``algorithm`` with a key of type ``kind``."""
    if kind == "RSA":
        cls = algorithms.RSAPSSAlgorithm if algorithm.startswith("PS") else algorithms.RSAAlgorithm
        return cls(getattr(cls, f"SHA{bits}"))
    if kind == "EC":
        return algorithms.ECAlgorithm(getattr(algorithms.ECAlgorithm, f"SHA{bits}"))
    return algorithms.OKPAlgorithm()


class Key:
    """One key bound to one algorithm: an HMAC secret, or a key pair's private or public half.

    A shared secret is used exactly as configured: a string is taken as its UTF-8
    bytes and never base64-decoded (services hand out keys such as
    ``{sso_key_from_dashboard}`` that look like encodings but are not). A secret
    shorter than the hash is allowed, because services choose their keys, but
    warned about once, at the line that configured it. A secret given as text
    with whitespace around it is refused (strip it where you read it).

    A key pair is given as PEM (private or public), a JWK mapping, or a
    ``cryptography`` key object; its algorithm defaults to the one its type
    implies (RSA: RS256, P-256: ES256, Ed25519: EdDSA) and must match it; an
    Edwards key also takes RFC 9864's ``Ed25519`` or ``Ed448``, and verifies either name. RSA
    keys under 2,048 bits are refused. Its ``kid`` is the RFC 7638 thumbprint
    unless given. ``repr()`` never shows secret material.

    >>> Key("a-secret-of-at-least-thirty-two-bytes!", kid="2026-11")
    Key(kid='2026-11', algorithm='HS256', secret=<hidden>)
    >>> pair = Key.generate("ES256")
    >>> pair.private, pair.public_jwk()["crv"], pair.kid == thumbprint(pair.public_jwk())
    (True, 'P-256', True)
    """

    __slots__ = ("_alg", "_hmac", "_material", "_prepared", "_public", "accepts", "algorithm",
                 "kid", "private", "secret", "signature_size")
    _alg: Any  # PyJWT's algorithm object
    _prepared: Any  # the HMAC key or the cryptography key object that signs
    _public: Any  # the cryptography public key that verifies (None for a secret)
    _material: bytes | None  # what derive() keys from: the secret or the private key's DER
    accepts: frozenset[str]
    """The header ``alg`` values this key verifies: its own algorithm, and for an Edwards key
    both names RFC 9864 gives that computation (``EdDSA`` and ``Ed25519`` or ``Ed448``)."""

    def __init__(
        self,
        secret: str | bytes | Mapping[str, Any] | Any,
        *,
        kid: str | None = None,
        algorithm: str | None = None,
        field: str = "key",
        min_length: int | None = None,
    ) -> None:
        _check_options(algorithm, kid, field)
        self.secret: bytes | None = None
        """The HMAC secret (``None`` for a key pair)."""
        self._public: Any = None
        if isinstance(secret, (str, bytes)) and not is_pair(secret):
            self._init_secret(secret, _secret_algorithm(algorithm, field), field, min_length)
        else:
            kid, algorithm = _pair_options(secret, kid, algorithm, field)
            self._init_pair(secret, algorithm, field, kid)
            kid = kid if kid is not None else self._kid_from_jwk()
        self.kid = kid

    def _init_secret(self, secret: str | bytes, algorithm: str, field: str, min_length: int | None) -> None:
        data = secret.encode("utf-8") if isinstance(secret, str) else secret
        if not data.strip(b"\0"):  # HMAC pads keys with zeros: all zeros is the empty key
            raise ConfigurationError(
                f"{field}: the key is empty (or all zero bytes, which HMAC treats as empty). Pass "
                "the secret the service gave you (for example from an environment variable that "
                "is actually set)."
            )
        stray = stray_whitespace(secret)
        if stray is not None:
            raise ConfigurationError(
                f"{field}: the secret {stray}. That is almost always left over from a file or a "
                "copied .env line, and the service's copy has none: every token would be refused "
                "with a bad signature. Strip it where you read it, e.g. "
                "os.environ['FRILL_SSO_KEY'].strip(), Path('frill.key').read_text().strip()."
            )
        self.secret = self._material = data
        self.algorithm = algorithm
        self.accepts = frozenset({algorithm})
        self.private = True
        self._alg = HMACAlgorithm(_HASHES[algorithm])
        # the stdlib's HMAC with the key's padded blocks hashed once, copied per signature: only
        # the message is hashed then (hmac.digest re-hashes both blocks on every call)
        self._hmac = hmac.new(data, digestmod=algorithm.replace("HS", "sha"))
        self._prepared = self._alg.prepare_key(data)
        digest_size: int = _HASHES[algorithm]().digest_size
        self.signature_size = digest_size
        # a service that issues keys of a fixed length (Help Scout: 44 characters) sets its own floor
        if len(data) < (digest_size if min_length is None else min_length):
            warnings.warn(
                f"{field}: the {algorithm} key is {len(data)} bytes; at least "
                f"{digest_size} are recommended (RFC 7518 section 3.2). It is used "
                "as configured because the service chose it.",
                ShortKeyWarning,
                stacklevel=_user_stacklevel(),
            )

    def _init_pair(self, material: Any, algorithm: str | None, field: str, kid: str | None) -> None:
        algorithms = _crypto(field)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

        key = _load_pair(material, field)
        kind, curve, size = _pair_shape(key, field)
        algorithm, bits = _pair_algorithm(algorithm, kind, curve, field)
        self.algorithm = algorithm
        self.accepts = _ALSO_ACCEPTS.get(curve, frozenset({algorithm}))
        self.private = not isinstance(
            key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)
        )
        self.signature_size = size
        self._alg = _pair_verifier(algorithms, kind, algorithm, bits)
        self._prepared = key
        self._public = key.public_key() if self.private else key
        self._material = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ) if self.private else None

    def _kid_from_jwk(self) -> str:
        return thumbprint(self.public_jwk(with_kid=False))

    @classmethod
    def generate(cls, algorithm: str = "ES256", *, kid: str | None = None) -> Key:
        """A new key pair for ``algorithm`` (RSA keys have 3,072 bits).

        Keep its :meth:`private_pem` secret; publish its :meth:`public_jwk`.
        """
        if algorithm in _HASHES:
            import secrets

            return cls(secrets.token_bytes(_HASHES[algorithm]().digest_size), algorithm=algorithm, kid=kid)
        spec = _PAIRS.get(algorithm)
        if spec is None:
            raise ConfigurationError(f"algorithm {algorithm!r}: use one of {', '.join(sorted(ALGORITHMS))}.")
        _crypto("keygen")
        from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

        kind, _, curve = spec
        key: Any
        if kind == "RSA":
            key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        elif kind == "EC":
            key = ec.generate_private_key({"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(),
                                           "P-521": ec.SECP521R1()}[curve or ""])
        elif curve == "Ed448":
            key = ed448.Ed448PrivateKey.generate()
        else:  # EdDSA and Ed25519
            key = ed25519.Ed25519PrivateKey.generate()
        return cls(key, algorithm=algorithm, kid=kid)

    @property
    def pair(self) -> bool:
        """Whether this is a key pair (its public half can be published)."""
        return self.secret is None

    @property
    def digest_size(self) -> int:
        """Bytes in a signature (for an HMAC key, the hash's output size)."""
        return int(self.signature_size)

    def sign(self, signing_input: bytes) -> bytes:
        if self.secret is not None:  # HMAC: what PyJWT's sign computes, the key's blocks hashed once
            mac = self._hmac.copy()
            mac.update(signing_input)
            return mac.digest()
        if not self.private:
            raise ConfigurationError(f"key {self.kid!r} is a public key: it can verify but not sign.")
        signature: bytes = self._alg.sign(signing_input, self._prepared)
        return signature

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        if self.secret is not None:  # constant-time, as PyJWT's HMAC verify compares
            return hmac.compare_digest(self.sign(signing_input), signature)
        good: bool = self._alg.verify(signing_input, self._public, signature)
        return good

    def derive(self, purpose: str) -> bytes:
        """A separate secret for ``purpose`` (so a session cookie never verifies as a token)."""
        if self._material is None:
            raise ConfigurationError(
                f"key {self.kid!r} is a public key: nothing secret can be derived from it. Pass "
                "session_key=... (a secret of your own) to the VerifierMiddleware."
            )
        return hmac.new(self._material, b"sso_middleware/" + purpose.encode(), hashlib.sha256).digest()

    def public_jwk(self, *, with_kid: bool = True) -> dict[str, Any]:
        """The public half as a JWK (with ``kid``, ``alg`` and ``use``), for a JWKS."""
        if self.secret is not None:
            raise ConfigurationError("an HMAC secret has no public half; it is never published.")
        jwk: dict[str, Any] = dict(self._alg.to_jwk(self._public, as_dict=True))
        for private_member in ("d", "p", "q", "dp", "dq", "qi", "oth", "k"):
            jwk.pop(private_member, None)
        if with_kid:
            jwk.update(kid=self.kid, alg=self.algorithm, use="sig")
        return jwk

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (store it like a password)."""
        from cryptography.hazmat.primitives import serialization

        if not self.pair or not self.private:
            raise ConfigurationError("only the private half of a key pair has a private PEM.")
        return self._prepared.private_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM (what Freshworks' settings page takes)."""
        from cryptography.hazmat.primitives import serialization

        if not self.pair:
            raise ConfigurationError("an HMAC secret has no public half.")
        return self._public.public_bytes(  # type: ignore[no-any-return]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def __repr__(self) -> str:
        if self.secret is None:
            half = "private" if self.private else "public"
            return f"Key(kid={self.kid!r}, algorithm={self.algorithm!r}, {half})"
        return f"Key(kid={self.kid!r}, algorithm={self.algorithm!r}, secret=<hidden>)"


def is_pair(value: object) -> bool:
    """Whether ``value`` is key-pair material (PEM, SSH, a JWK, a key object), not a shared secret."""
    if not isinstance(value, (str, bytes)):
        return not isinstance(value, Key)
    data = (value.encode("utf-8") if isinstance(value, str) else value).strip()
    return data.startswith(_KEY_MATERIAL) or (data.startswith(b"{") and b'"kty"' in data)


def _load_pair(material: Any, field: str) -> Any:
    """A ``cryptography`` key object from PEM, a JWK (mapping or JSON) or a key object."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from jwt import algorithms
    from jwt.exceptions import InvalidKeyError

    if isinstance(material, (str, bytes)):
        data = (material.encode("utf-8") if isinstance(material, str) else material).strip()
        if data.startswith(b"{"):
            try:
                material = json.loads(data)
            except ValueError as e:
                raise ConfigurationError(f"{field}: this JWK is not valid JSON.") from e
        elif data.startswith(b"-----BEGIN"):
            try:
                if b"PRIVATE KEY" in data.split(b"\n", 1)[0]:
                    return serialization.load_pem_private_key(data, password=None)
                return serialization.load_pem_public_key(data)
            except TypeError as e:
                raise ConfigurationError(f"{field}: this private key is encrypted; decrypt it first "
                                         "(openssl pkey -in key.pem -out plain.pem).") from e
            except (ValueError, UnsupportedAlgorithm) as e:
                raise ConfigurationError(f"{field}: this PEM key could not be read ({e}).") from e
        else:
            raise ConfigurationError(
                f"{field}: SSH keys are not read here; convert with ssh-keygen -e -m PKCS8, or make "
                "a new key with sso-middleware keygen."
            )
    if isinstance(material, Mapping):
        kty = material.get("kty")
        loader: Any = {"RSA": algorithms.RSAAlgorithm, "EC": algorithms.ECAlgorithm,
                  "OKP": algorithms.OKPAlgorithm}.get(str(kty))
        if loader is None:
            raise ConfigurationError(f"{field}: a JWK of type {kty!r} is not a key pair (RSA, EC or OKP).")
        try:
            return loader.from_jwk(dict(material))
        except (InvalidKeyError, ValueError, KeyError, TypeError) as e:
            raise ConfigurationError(f"{field}: this {kty} JWK could not be read ({e}).") from e
    return material


KeyInput: TypeAlias = "str | bytes | Key | Mapping[str, Any] | Sequence[str | bytes | Key | Mapping[str, Any]]"  # noqa: E501
"""A secret, a key pair (PEM, JWK), a :class:`Key`, a JWKS ``{"keys": [...]}``, or a list, newest first."""


class KeySet:
    """Keys for one direction: the first signs, all verify (rotation).

    A token that names a ``kid`` is checked with that key only; a token without
    one is checked against every key. The public halves of its key pairs are
    what an issuer publishes (:meth:`jwks`): keep a rotated-out key in the list
    until the last token it signed has expired.
    """

    __slots__ = ("_by_kid", "keys")

    def __init__(self, keys: Iterable[Key], *, empty_ok: bool = False) -> None:
        self.keys = tuple(keys)
        if not self.keys and not empty_ok:  # (a JWKS verifier starts empty: its keys are fetched)
            raise ConfigurationError("key: at least one key is required.")
        self._by_kid: dict[str, Key] = {}
        for key in self.keys:
            if key.kid is not None:
                if key.kid in self._by_kid:
                    raise ConfigurationError(f"key: kid {key.kid!r} is configured twice.")
                self._by_kid[key.kid] = key

    @classmethod
    def build(
        cls, value: KeyInput | KeySet | None, *, algorithm: str | None, field: str,
        min_length: int | None = None,
    ) -> KeySet:
        """Accept a secret, a key pair, a :class:`Key`, a JWKS, or a list of them (newest first).

        ``algorithm`` binds each key given bare (``None``: what each key's type implies).
        """
        if isinstance(value, KeySet):
            return value
        if value is None:
            raise ConfigurationError(
                f"{field}: no key configured. Pass key=... with the secret the service "
                "gave you."
            )
        if isinstance(value, Mapping) and "keys" in value:  # a JWKS
            listed = value["keys"]
            if not isinstance(listed, list):
                raise ConfigurationError(f"{field}: a JWKS's 'keys' must be a list of JWKs.")
            items: list[Any] = listed
        elif isinstance(value, (str, bytes, Key, Mapping)) or not isinstance(value, Sequence):
            items = [value]
        else:
            items = list(value)
        return cls(
            item if isinstance(item, Key)
            else Key(item, algorithm=algorithm, field=field, min_length=min_length)
            for item in items
        )

    @property
    def signing(self) -> Key:
        return self.keys[0]

    @property
    def algorithms(self) -> frozenset[str]:
        """What these keys verify (an Edwards key answers to both of its names)."""
        return frozenset().union(*(k.accepts for k in self.keys))

    @property
    def published(self) -> tuple[Key, ...]:
        """The key pairs, whose public halves an issuer publishes."""
        return tuple(key for key in self.keys if key.pair)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWK Set of these keys (HMAC secrets are never in it)."""
        return {"keys": [key.public_jwk() for key in self.published]}

    def candidates(self, kid: object) -> tuple[Key, ...]:
        if kid is None:
            return self.keys
        if isinstance(kid, str):
            key = self._by_kid.get(kid)
            return (key,) if key is not None else ()
        return ()

    def __repr__(self) -> str:
        return f"KeySet({list(self.keys)!r})"


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Whether two secrets (MACs, nonces) are equal, in constant time, on bytes: a value from the
    browser may hold any character (``hmac.compare_digest`` raises on non-ASCII text), and a
    comparison must answer, never raise.

    >>> same_secret("abc", b"abc"), same_secret("\u00e9", "abc")
    (True, False)
    """
    def raw(value: str | bytes) -> bytes:
        return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value

    return hmac.compare_digest(raw(given), raw(expected))


__all__ = [
    "ALGORITHMS",
    "HMAC_ALGORITHMS",
    "Key",
    "KeyInput",
    "KeySet",
    "ShortKeyWarning",
    "is_pair",
    "same_secret",
    "thumbprint",
]
