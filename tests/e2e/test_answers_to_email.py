"""The product's promise, through the gateway on the running system: organisations sign in with the development
issuer's tokens (`cx-dev-token`), answers go in, ranked hosts and e-mails to both parties come out."""

from __future__ import annotations

import uuid

import httpx
import pytest

from cx_contracts import examples
from cx_kit.testing import wait_until

pytestmark = pytest.mark.e2e


def _mail_domain() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}.example"


async def _mails_to(mailpit: str, address: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=mailpit, timeout=10) as client:
        found = await client.get("/api/v1/search", params={"query": f'to:"{address}"'})
        return found.json().get("messages", [])


async def test_a_visitor_gets_a_fitting_host_ranked_and_both_get_an_email(running_system):
    domain = _mail_domain()
    host_body = examples.host_entry_payload(0)
    host_body["contact"] = {"name": "Hanna Host", "email": f"host@{domain}"}
    visitor_body = examples.application_payload(0)
    visitor_body["contact"] = {"name": "Vera Visitor", "email": f"visitor@{domain}"}
    # The system keeps what earlier runs left open, and the new host may enter those applications' lists too:
    # a name of this run's own tells this visitor's mails apart from theirs.
    run = domain.split(".")[0]
    visitor_body["organisation"]["name"] = f"{visitor_body['organisation']['name']} {run}"
    # Earlier runs left copies of this host in the catalogue: this run's host says something of its own (and
    # has a name of its own), so it fits this visitor best, ahead of its copies.
    host_body["organisation"]["name"] = f"{host_body['organisation']['name']} {run}"
    host_body["answers"]["expertise"] += f" Our {run} programme pairs each visitor with one member company."
    host_body["answers"]["keywords"] = [*host_body["answers"]["keywords"][:3], run]
    visitor_body["answers"]["keywords"] = host_body["answers"]["keywords"]
    # The visitor wants to learn exactly what this host offers, in the host's words.
    visitor_body["answers"]["goals"] = host_body["answers"]["expertise"]
    visitor_body["answers"]["ecosystems"] = host_body["answers"]["ecosystems"]
    visitor_body["answers"]["languages"] = host_body["answers"]["languages"]
    visitor_body["answers"]["formats"] = host_body["answers"]["formats"]
    visitor_body["answers"]["preferred_countries"] = [host_body["organisation"]["country"]]
    visitor_body["answers"]["excluded_countries"] = []
    if visitor_body["organisation"]["country"] == host_body["organisation"]["country"]:
        visitor_body["organisation"]["country"] = "SI" if host_body["organisation"]["country"] != "SI" else "HR"

    host_owner = running_system.signed_in(host_body["organisation"]["name"], "--email", f"host@{domain}")
    visitor_owner = running_system.signed_in(visitor_body["organisation"]["name"], "--email", f"visitor@{domain}")
    async with httpx.AsyncClient(base_url=running_system.gateway, timeout=15) as gateway:
        anonymous = await gateway.post("/api/catalogue/hosts", json=host_body)
        assert anonymous.status_code == 401, "writing needs a token"
        host = await gateway.post("/api/catalogue/hosts", json=host_body, headers=host_owner)
        assert host.status_code == 201, host.text
        host_id = host.json()["host_id"]
        # Free text finds the host by the word only this run wrote (copies of earlier runs share the rest).
        listed = await gateway.get("/api/catalogue/hosts", params={"q": run})
        assert host_id in {h["host_id"] for h in listed.json()["items"]}
        assert f"host@{domain}" not in listed.text, "the public catalogue shows no contact"

        application = await gateway.post("/api/applications", json=visitor_body, headers=visitor_owner)
        assert application.status_code == 201, application.text
        created = application.json()
        owner = visitor_owner

        async def ranked_hosts() -> list[dict] | None:
            response = await gateway.get(f"/api/applications/{created['application_id']}/matches", headers=owner)
            matches = response.json().get("matches") if response.status_code == 200 else None
            return matches if matches and any(m["host_id"] == host_id for m in matches) else None

        matches = await wait_until(ranked_hosts, timeout=60, interval=0.5, message="the host among the matches")
        mine = next(m for m in matches if m["host_id"] == host_id)
        assert mine["rank"] <= 3, matches
        assert mine["explanation"]["semantic"] > 0
        assert abs(sum(mine["explanation"].values()) - mine["score"]) < 1e-3, "the explanation adds up to the score"
        anonymous_read = await gateway.get(f"/api/applications/{created['application_id']}/matches")
        assert anonymous_read.status_code == 401
        stranger = running_system.signed_in(f"Stranger {domain}")
        other = await gateway.get(f"/api/applications/{created['application_id']}/matches", headers=stranger)
        assert other.status_code == 404, "another organisation does not learn the application exists"
        own_list = await gateway.get("/api/applications", headers=owner)
        assert [a["application_id"] for a in own_list.json()["items"]] == [created["application_id"]]

    mailpit = running_system.infrastructure.mailpit_url
    visitor_mail = await wait_until(
        lambda: _mails_to(mailpit, f"visitor@{domain}"), timeout=60, interval=0.5, message="the visitor's e-mail"
    )

    async def host_mail_about_the_visitor() -> list[dict]:
        # The host may also enter other open applications' lists (re-matching), and those mails may come first:
        # wait for, and count, the mails about this visitor.
        mails = await _mails_to(mailpit, f"host@{domain}")
        return [m for m in mails if visitor_body["organisation"]["name"] in m["Subject"]]

    about_visitor = await wait_until(
        host_mail_about_the_visitor, timeout=60, interval=0.5, message="the host's e-mail about the visitor"
    )
    assert len(visitor_mail) == 1 and len(about_visitor) == 1
    async with httpx.AsyncClient(base_url=mailpit, timeout=10) as client:
        body = (await client.get(f"/api/v1/message/{visitor_mail[0]['ID']}")).json()
    assert host_body["organisation"]["name"] in body["Text"]
    assert f"{running_system.gateway}/catalogue/hosts/{host_id}" in body["HTML"], "it links the host's page"
    assert f"{running_system.gateway}/applications/{created['application_id']}" in body["Text"], "and its own"

    async with httpx.AsyncClient(base_url=running_system.gateway, timeout=15) as gateway:
        # The owners withdraw, so later runs find no copy of this run's host or visitor open.
        withdrawn = [
            await gateway.delete(f"/api/catalogue/hosts/{host_id}", headers={**host_owner, "If-Match": '"1"'}),
            await gateway.delete(
                f"/api/applications/{created['application_id']}", headers={**visitor_owner, "If-Match": '"1"'}
            ),
        ]
    assert [response.status_code for response in withdrawn] == [204, 204]
