"""The exchanges' pages rendered from the API's documents: the state and whose step it is, the host's forms, the
contacts only when the API gives them, the grant, the totals."""

from __future__ import annotations

from typing import Any

import pytest

from cx_contracts import examples

from cx_web.domain.exchanges import AGREEMENT, REPORT, request_form
from cx_web.domain.people import SignedInPerson
from cx_web.domain.questionnaire_form import FormProblems
from cx_web.domain.records import OrganisationView
from cx_web.entrypoints.rendering import TEMPLATES

pytestmark = pytest.mark.unit

GRANT = {
    "amount_cents": 135000,
    "currency": "EUR",
    "cap_cents": 270000,
    "halved": True,
    "reasons": ["short-distance"],
    "distance_km": 120.5,
    "host_country": "DE",
    "working_days": 5,
}


def view(state: str, *, yours: str = "", **changes: Any) -> dict[str, Any]:
    """An exchange as GET /api/exchanges/{id} gives it, in `state`."""
    host, visitor = examples.host_entry_payload(0), examples.application_payload(0)
    steps = {
        "requested": [{"who": "host", "action": "accept-or-decline", "text": "Accept or decline."}],
        "accepted": [{"who": "host-manager", "action": "confirm", "text": "Confirm."}],
        "agreed": [{"who": "visitor", "action": "report", "text": "File the closing report."}],
    }.get(state, [])
    return {
        "exchange_id": "8ae33bf9-dadd-44b4-a0ee-540d06f1bca1",
        "revision": 2,
        "state": state,
        "visitor": {"record_id": "a", "partnership": "P1", "organisation": visitor["organisation"]},
        "host": {"record_id": "h", "partnership": "P2", "organisation": host["organisation"]},
        "dates": {"start": "2027-04-12", "end": "2027-04-16"},
        "working_days": 5,
        "format": "physical",
        "participants": 2,
        "grant": None,
        "grant_estimate": GRANT,
        "requested_at": "2027-01-11T10:00:00Z",
        "updated_at": "2027-01-11T10:00:00Z",
        "your_sides": [yours] if yours else [],
        "goals": "Learn how a living lab works.",
        "message": "We would love to visit you.",
        "agenda": None,
        "confirmations": [],
        "contacts": None,
        "next_steps": [{**step, "yours": step["who"].removesuffix("-manager") == yours} for step in steps],
        **changes,
    }


def rendered(template: str, **context: Any) -> str:
    person = SignedInPerson("s", "o", "Someone", None, "member", None)
    common = {"person": person, "csrf_token": "t", "flash": None, "sign_in_url": "/sign-in", "path": "/exchanges"}
    return TEMPLATES.get_template(template).render({**common, **context})


def exchange_page(document: dict[str, Any], *, is_manager: bool = False) -> str:
    from cx_web.domain.exchanges import ACCEPTANCE, DECLINE

    return rendered(
        "exchange.html",
        exchange=document,
        visitor=OrganisationView.of(document["visitor"]["organisation"]),
        host=OrganisationView.of(document["host"]["organisation"]),
        conflict=None,
        stale=False,
        forms={},
        acceptance=ACCEPTANCE,
        decline=DECLINE,
        is_manager=is_manager,
    )


def test_a_request_shows_the_host_its_accept_and_decline_forms_and_no_contact() -> None:
    page = exchange_page(view("requested", yours="host"))

    assert 'action="/exchanges/8ae33bf9-dadd-44b4-a0ee-540d06f1bca1/accept"' in page
    assert 'action="/exchanges/8ae33bf9-dadd-44b4-a0ee-540d06f1bca1/decline"' in page
    assert "once the host accepts" in page
    assert "The host organisation (you):" in page
    assert "EUR 1,350.00 (half of EUR 2,700.00" in page and "(estimate)" in page


def test_the_visitor_sees_no_host_form_on_its_request() -> None:
    page = exchange_page(view("requested", yours="visitor"))

    assert "/accept" not in page and "/withdraw" in page


def test_an_accepted_exchange_shows_both_contacts_the_api_gives() -> None:
    contacts = {
        "visitor": {"name": "Vera Visitor", "email": "vera@visitor.example"},
        "host": {"name": "H", "email": "h@h.example"},
    }
    page = exchange_page(view("accepted", yours="host", contacts=contacts, agenda="Day one: the lab."))

    assert 'href="mailto:vera@visitor.example"' in page and "Day one: the lab." in page


def test_an_agreed_exchange_shows_its_grant_and_the_visitors_report_link() -> None:
    page = exchange_page(view("agreed", yours="visitor", grant=GRANT, grant_estimate=None))

    assert "File the closing report" in page and "(estimate)" not in page


def test_a_completed_exchange_shows_its_report() -> None:
    report = {"learnt": "How the lab brokers pilots.", "follow_up": "A pilot in spring."}
    page = exchange_page(view("completed", grant=GRANT, grant_estimate=None, report=report))

    assert "How the lab brokers pilots." in page and "completed" in page


@pytest.mark.parametrize("step", ["withdraw", "agreement", "report"])
def test_each_step_page_posts_its_form_from_the_revision_read(step: str) -> None:
    document = view("agreed")
    form = {"withdraw": None, "agreement": AGREEMENT, "report": REPORT}[step]
    page = rendered(
        "exchange_step.html",
        step=step,
        heading="A step",
        form=form,
        exchange=document,
        visitor=OrganisationView.of(document["visitor"]["organisation"]),
        host=OrganisationView.of(document["host"]["organisation"]),
        values={},
        problems=FormProblems(),
    )

    assert f'action="/exchanges/8ae33bf9-dadd-44b4-a0ee-540d06f1bca1/{step}"' in page
    assert 'name="revision" value="2"' in page


def test_the_request_form_offers_the_formats_both_sides_accept() -> None:
    host = examples.host_entry_payload(0)
    page = rendered(
        "exchange_request.html",
        form=request_form(["virtual"]),
        values={},
        problems=FormProblems(),
        conflict=None,
        application_id="a",
        host_id="h",
        host=OrganisationView.of(host["organisation"]),
        host_answers=host["answers"],
        application_page="/applications/a",
        idempotency_key="5b0c5a9e-35a4-4f49-9a4c-1d4f6fd0c2a1",
    )

    assert '<option value="virtual"' in page and '<option value="physical"' not in page


def test_the_list_puts_the_requests_waiting_for_the_host_first_with_the_totals() -> None:
    waiting, agreed = view("requested", yours="host"), view("agreed", yours="host", grant=GRANT)
    totals = {"by_state": {"requested": 1, "agreed": 1}, "total": 2, "granted_cents": 135000, "currency": "EUR"}
    items = [
        (item, OrganisationView.of(item["visitor"]["organisation"]), OrganisationView.of(item["host"]["organisation"]))
        for item in (waiting, agreed)
    ]

    page = rendered("exchanges.html", items=items, totals=totals)

    assert "Requests waiting for your answer (1)" in page and "Other exchanges (1)" in page
    assert "EUR 1,350.00" in page


def test_a_manager_confirms_for_the_side_its_partnership_validates_and_withdraws_nothing() -> None:
    page = exchange_page(view("accepted", yours="host"), is_manager=True)

    assert "your partnership validates the host side" in page
    assert "Confirm the Commitment to Quality" in page and "/withdraw" not in page
