"""Demo data for `make run`: the matching evaluation set's hosts and visitors, sent through the gateway.

Each organisation is created the way a real one is: it signs in (a token of the development issuer, as
`cx-dev-token` makes it) and POSTs to the public API, which validates it, stores it and publishes its event;
the matcher then proposes hosts and the notifier e-mails both sides (Mailpit). The tokens (each organisation's,
and one manager's per partnership in use) go to .run/demo-tokens.json, so a person can read what they own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml
from tenacity import RetryCallState, retry, retry_if_exception_type, stop_after_attempt

from cx_contracts.vocabulary import PARTNERSHIPS

from cx_dev_issuer.identities import DevIdentity, access_token
from cx_dev_issuer.keys import signing_key
from cx_dev_issuer.settings import Settings as IssuerSettings

ROOT = Path(__file__).resolve().parents[2]
EVALUATION = ROOT / "services" / "matcher" / "evaluation"
# A demo token outlives a working day of trying the system.
TOKEN_LIFETIME_S = 12 * 3600


def demo_contact(organisation: dict) -> dict:
    """A role address on the organisation's own (reserved .example) domain: no real person's data."""
    domain = urlsplit(organisation["website"]).hostname.removeprefix("www.")
    return {"name": f"Exchange desk of {organisation['name']}"[:120], "email": f"exchange@{domain}"}


class NotYetUp(Exception):
    """The gateway or a service behind it is still starting, or the gateway asks to slow down (429)."""

    def __init__(self, status: int, retry_after_s: float = 0.5) -> None:
        super().__init__(status)
        self.retry_after_s = retry_after_s


def _pause(state: RetryCallState) -> float:
    # As long as the gateway says (its write budget per client refills over seconds), else half a second.
    error = state.outcome.exception() if state.outcome is not None else None
    return min(getattr(error, "retry_after_s", 0.5), 10.0)


@retry(
    retry=retry_if_exception_type((httpx.TransportError, NotYetUp)),
    wait=_pause,
    stop=stop_after_attempt(30),
    retry_error_callback=lambda state: sys.exit(
        "the gateway did not answer; is the system up? (deploy/local/services.sh status)"
    ),
)
def post(client: httpx.Client, path: str, body: dict, token: str) -> dict:
    """POST signed in with `token`, retried while the services finish starting or the gateway throttles."""
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code in (502, 503, 504):
        raise NotYetUp(response.status_code)
    if response.status_code == 429:
        raise NotYetUp(429, float(response.headers.get("Retry-After", "1") or 1))
    if response.status_code != 201:
        raise SystemExit(f"{path} refused demo entry {body['organisation']['name']!r}: {response.text}")
    return response.json()


def demo_partnership(index: int) -> str:
    """The partnership demo organisation `index` names: the scheme's partnerships in turn."""
    ids = list(PARTNERSHIPS)
    return ids[index % len(ids)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--out", default=str(ROOT / ".run" / "demo-tokens.json"))
    args = parser.parse_args()

    issuer = IssuerSettings()
    key = signing_key(issuer.key_file)

    def token_of(identity: DevIdentity) -> str:
        return access_token(key, identity, issuer=issuer.issuer, audience=issuer.audience, lifetime_s=TOKEN_LIFETIME_S)

    hosts = yaml.safe_load((EVALUATION / "hosts.yaml").read_text())["hosts"]
    visitors = yaml.safe_load((EVALUATION / "applications.yaml").read_text())["applications"]
    signed_in: dict[str, list[dict]] = {"hosts": [], "applications": [], "managers": []}
    with httpx.Client(base_url=args.gateway, timeout=10) as client:
        for entries, path, kind in (
            (hosts, "/api/catalogue/hosts", "hosts"),
            (visitors, "/api/applications", "applications"),
        ):
            for index, entry in enumerate(entries):
                organisation = entry["organisation"]
                contact = demo_contact(organisation)
                partnership = demo_partnership(index)
                identity = DevIdentity.of(organisation["name"], email=contact["email"])
                token = token_of(identity)
                body = {"organisation": organisation, "contact": contact, "partnership": partnership}
                created = post(client, path, {**body, "answers": entry["answers"]}, token)
                signed_in[kind].append(
                    {"name": organisation["name"], "organisation": identity.organisation, "token": token, **created}
                )
    used = sorted({demo_partnership(index) for index in range(max(len(hosts), len(visitors)))})
    for partnership in used:
        manager = DevIdentity.of(f"{PARTNERSHIPS[partnership]} office", role="manager", partnership=partnership)
        signed_in["managers"].append({"partnership": partnership, "token": token_of(manager)})

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(signed_in, indent=2))
    out.chmod(0o600)
    first = signed_in["applications"][0]
    print(
        f"   {len(signed_in['hosts'])} hosts in the catalogue, {len(signed_in['applications'])} applications; "
        f"each organisation's token (and a manager's per partnership) in {out}"
    )
    print(
        f"   e.g. the matches of {first['name']}, signed in as it:\n"
        f"     curl -H 'Authorization: Bearer {first['token']}' "
        f"{args.gateway}/api/applications/{first['application_id']}/matches"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
