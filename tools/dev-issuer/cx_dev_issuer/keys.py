"""The development issuer's signing key: an RSA key pair made on first use and kept in a PEM file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
KEY_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    """The private key tokens are signed with, and its id (`kid`: the RFC 7638 thumbprint of its public key)."""

    private_key: rsa.RSAPrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK with its `kid`, `use` and `alg`: what /jwks.json serves."""
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    @property
    def kid(self) -> str:
        """RFC 7638: the SHA-256 of the key's required members, as compact JSON in lexical order."""
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        members = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def signing_key(path: Path) -> SigningKey:
    """The key in `path`, made (readable by its owner only) when the file does not exist yet."""
    if not path.exists():
        _create(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} holds no RSA private key")
    return SigningKey(key)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        # A link fails when the file appeared meanwhile (the issuer and cx-dev-token starting together): the
        # first key made stays the only one.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
