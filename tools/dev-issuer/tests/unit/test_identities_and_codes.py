"""Who may sign in to the development issuer, and how its codes are redeemed: once, in time, with the verifier."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from cx_dev_issuer.authorisation import (
    AuthorisationCodes,
    AuthorisationError,
    AuthorisationRequest,
    GrantRefused,
    RedirectRefused,
    challenge_of,
)
from cx_dev_issuer.identities import DevIdentity, IdentityError, access_token, organisation_id
from cx_dev_issuer.keys import signing_key

pytestmark = pytest.mark.unit

VERIFIER = secrets.token_urlsafe(48)


def _request(**overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "cx-web",
        "redirect_uri": "http://127.0.0.1:8080/signed-in",
        "scope": "openid email",
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": challenge_of(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Test Cluster", "test-cluster"),
        ("  NordWest AgriFood Innovation Cluster e.V. ", "nordwest-agrifood-innovation-cluster-e-v"),
        ("Região Norte Têxtil", "regiao-norte-textil"),
        ("Cluster  Test", "cluster-test"),
    ],
)
def test_an_organisation_id_is_a_stable_slug_of_its_name(name: str, slug: str) -> None:
    assert organisation_id(name) == slug == organisation_id(name.upper())


def test_the_email_defaults_to_the_organisations_contact_address_verified() -> None:
    identity = DevIdentity.of("Test Cluster")
    assert identity.email == "contact@test-cluster.example" and identity.email_verified
    assert identity.claims() == {
        "sub": "dev:test-cluster:contact@test-cluster.example",
        "organisation": "test-cluster",
        "organisation_name": "Test Cluster",
        "email": "contact@test-cluster.example",
        "email_verified": True,
        "role": "member",
    }


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"organisation_name": ""}, "organisation"),
        ({"organisation_name": "!!!"}, "organisation"),
        ({"organisation_name": "x" * 201}, "organisation"),
        ({"organisation_name": "A", "role": "admin"}, "role"),
        ({"organisation_name": "A", "role": "manager"}, "partnership"),
        ({"organisation_name": "A", "partnership": "escp-4x-01"}, "partnership"),
        ({"organisation_name": "A", "email": "not an address"}, "email"),
    ],
)
def test_answers_that_describe_nobody_are_refused_naming_the_field(answers: dict[str, str], field: str) -> None:
    name = answers.pop("organisation_name")
    with pytest.raises(IdentityError) as refused:
        DevIdentity.of(name, **answers)
    assert refused.value.field == field


def test_a_token_names_its_key_and_carries_the_identity(tmp_path) -> None:
    key = signing_key(tmp_path / "key.pem")
    manager = DevIdentity.of("ESCP office", role="manager", partnership="escp-4x-02")
    token = access_token(key, manager, issuer="http://127.0.0.1:1", lifetime_s=60)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    claims = jwt.decode(token, key.private_key.public_key(), algorithms=["RS256"], audience="clusterxchange")
    assert claims["role"] == "manager" and claims["partnership"] == "escp-4x-02"
    assert claims["exp"] - claims["iat"] == 60 and claims["iss"] == "http://127.0.0.1:1"


def test_the_key_is_made_once_and_read_back_after(tmp_path) -> None:
    path = tmp_path / "nested" / "key.pem"
    first, again = signing_key(path), signing_key(path)
    assert first.kid == again.kid and first.public_jwk == again.public_jwk
    assert path.stat().st_mode & 0o077 == 0, "the private key is readable by its owner only"


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://evil.example/cb", "javascript:alert(1)", "http://127.0.0.1:8080/cb#x", "", "http://10.0.0.1/cb"],
)
def test_a_redirect_anywhere_but_loopback_is_refused_without_redirecting(redirect_uri: str) -> None:
    with pytest.raises(RedirectRefused):
        AuthorisationRequest.checked(_request(redirect_uri=redirect_uri), [])


def test_a_host_the_settings_allow_may_be_redirected_to() -> None:
    checked = AuthorisationRequest.checked(_request(redirect_uri="http://web.test/cb"), ["web.test"])
    assert checked.answer(code="c") == "http://web.test/cb?code=c&state=s-1"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "email"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
    ],
)
def test_a_request_without_openid_code_or_s256_pkce_is_answered_with_its_error(
    overrides: dict[str, str], error: str
) -> None:
    with pytest.raises(AuthorisationError) as refused:
        AuthorisationRequest.checked(_request(**overrides), [])
    assert refused.value.error == error


def test_a_code_is_redeemed_once_by_its_client_with_the_verifier_of_its_challenge() -> None:
    codes = AuthorisationCodes(lifetime_s=60)
    request = AuthorisationRequest.checked(_request(), [])
    identity = DevIdentity.of("Test Cluster")
    fits = {"client_id": "cx-web", "redirect_uri": "http://127.0.0.1:8080/signed-in", "code_verifier": VERIFIER}
    for wrong in ({"client_id": "other"}, {"redirect_uri": "http://127.0.0.1:8080/x"}, {"code_verifier": "v" * 43}):
        code = codes.issue(request, identity)
        with pytest.raises(GrantRefused):
            codes.redeem(code, **{**fits, **wrong})
        with pytest.raises(GrantRefused):
            codes.redeem(code, **fits)  # a refused code is spent too
    code = codes.issue(request, identity)
    assert codes.redeem(code, **fits).identity == identity
    with pytest.raises(GrantRefused):
        codes.redeem(code, **fits)


def test_a_code_expires() -> None:
    codes = AuthorisationCodes(lifetime_s=0.05)
    code = codes.issue(AuthorisationRequest.checked(_request(), []), DevIdentity.of("Test Cluster"))
    time.sleep(0.1)
    with pytest.raises(GrantRefused):
        codes.redeem(code, client_id="cx-web", redirect_uri="http://127.0.0.1:8080/signed-in", code_verifier=VERIFIER)
