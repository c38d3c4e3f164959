"""Demo data for `make run`: the matching evaluation set's hosts and visitors, sent through the gateway.

Each organisation is created the way a real one is: POST to the public API, which validates it, stores it
and publishes its event; the matcher then proposes hosts and the notifier e-mails both sides (Mailpit).
The owner tokens go to .run/demo-owners.json so a person can read an application's matches.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_fixed

ROOT = Path(__file__).resolve().parents[2]
EVALUATION = ROOT / "services" / "matcher" / "evaluation"


def demo_contact(organisation: dict) -> dict:
    """A role address on the organisation's own (reserved .example) domain: no real person's data."""
    domain = urlsplit(organisation["website"]).hostname.removeprefix("www.")
    return {"name": f"Exchange desk of {organisation['name']}"[:120], "email": f"exchange@{domain}"}


class NotYetUp(Exception):
    """The gateway or a service behind it is still starting."""


@retry(
    retry=retry_if_exception_type((httpx.TransportError, NotYetUp)),
    wait=wait_fixed(0.5),
    stop=stop_after_attempt(20),
    retry_error_callback=lambda state: sys.exit(
        "the gateway did not answer; is the system up? (deploy/local/services.sh status)"
    ),
)
def post(client: httpx.Client, path: str, body: dict) -> dict:
    """POST, retried while the services finish starting."""
    response = client.post(path, json=body)
    if response.status_code in (502, 503, 504):
        raise NotYetUp(response.status_code)
    if response.status_code != 201:
        raise SystemExit(f"{path} refused demo entry {body['organisation']['name']!r}: {response.text}")
    return response.json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--out", default=str(ROOT / ".run" / "demo-owners.json"))
    args = parser.parse_args()

    hosts = yaml.safe_load((EVALUATION / "hosts.yaml").read_text())["hosts"]
    visitors = yaml.safe_load((EVALUATION / "applications.yaml").read_text())["applications"]
    owners: dict[str, list[dict]] = {"hosts": [], "applications": []}
    with httpx.Client(base_url=args.gateway, timeout=10) as client:
        for entries, path, kind in (
            (hosts, "/api/catalogue/hosts", "hosts"),
            (visitors, "/api/applications", "applications"),
        ):
            for entry in entries:
                organisation = entry["organisation"]
                body = {
                    "organisation": organisation,
                    "contact": demo_contact(organisation),
                    "answers": entry["answers"],
                }
                owners[kind].append({"name": organisation["name"], **post(client, path, body)})

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(owners, indent=2))
    first = owners["applications"][0]
    print(
        f"   {len(owners['hosts'])} hosts in the catalogue, {len(owners['applications'])} applications; "
        f"owner tokens in {out}"
    )
    print(
        f"   e.g. the matches of {first['name']}:\n"
        f"     curl -H 'Authorization: Bearer {first['owner_token']}' "
        f"{args.gateway}/api/applications/{first['application_id']}/matches"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
