"""What the pages show of an exchange, and its forms: the request, the host's answer, the Commitment to Quality
and the closing report, each field named by the document path it fills (as the questionnaires are)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cx_contracts.exchange import ExchangeState, GrantReason
from cx_contracts.vocabulary import ExchangeFormat

from cx_web.domain.questionnaire_form import Choice, FieldGroup, FormField, Questionnaire, Widget

EXCHANGES_PAGE = "/exchanges"
_GRANT_REASONS = {
    GrantReason.VIRTUAL: "virtual exchanges get no grant",
    GrantReason.SHORT_STAY: "halved: the stay is under 5 working days",
    GrantReason.SHORT_DISTANCE: "halved: the two organisations' cities are under 200 km apart",
    GrantReason.DISTANCE_UNKNOWN: "halved: a city could not be located (correct it in your record, or name the nearest "
    "town, before both partnerships confirm)",
}
_WHO = {
    "visitor": "The visiting organisation",
    "host": "The host organisation",
    "visitor-manager": "The visitor's partnership",
    "host-manager": "The host's partnership",
}
GOALS = FormField(
    "goals", "Goals", Widget.TEXTAREA, "What your visitors want to achieve in this exchange (40 characters or more)."
)
AGENDA = FormField(
    "agenda",
    "Agenda",
    Widget.TEXTAREA,
    "The programme you propose: meetings, visits, trainings (40 characters or more).",
)


def exchange_page(exchange_id: str) -> str:
    """An exchange's page."""
    return f"{EXCHANGES_PAGE}/{exchange_id}"


def request_form(formats: Sequence[str]) -> Questionnaire:
    """The request a visitor sends a proposed host; the formats offered are those both sides accept."""
    choices = tuple(
        Choice(value, ExchangeFormat(value).label) for value in formats if value in ExchangeFormat._value2member_map_
    )
    return Questionnaire(
        "exchange",
        (
            FieldGroup(
                "When and how",
                (
                    FormField("dates.start", "First day", Widget.DATE, "After today, inside the host's availability."),
                    FormField(
                        "dates.end", "Last day", Widget.DATE, "3 working days or more, up to the host's longest."
                    ),
                    FormField("format", "Format", Widget.SELECT, "One you and the host both accept.", choices),
                    FormField("participants", "Participants", Widget.NUMBER, "How many people visit."),
                ),
            ),
            FieldGroup(
                "What you ask",
                (
                    GOALS,
                    FormField("message", "Message to the host", Widget.TEXTAREA, "Only the host reads it."),
                ),
            ),
        ),
    )


ACCEPTANCE = Questionnaire("exchange", (FieldGroup("Accept the request", (AGENDA,)),))
DECLINE = Questionnaire(
    "exchange",
    (
        FieldGroup(
            "Decline the request",
            (FormField("reason", "Why (optional)", Widget.TEXTAREA, "The visitor reads it.", optional=True),),
        ),
    ),
)
AGREEMENT = Questionnaire("exchange", (FieldGroup("Commitment to Quality", (GOALS, AGENDA)),))
REPORT = Questionnaire(
    "exchange",
    (
        FieldGroup(
            "Closing report",
            (
                FormField("learnt", "What you learnt", Widget.TEXTAREA, "40 characters or more."),
                FormField(
                    "follow_up", "What follows", Widget.TEXTAREA, "Joint projects, next visits, changes at home."
                ),
            ),
        ),
    ),
)


def grant_reasons(grant: Mapping[str, Any]) -> list[str]:
    """Why a grant is what it is, in words."""
    return [
        _GRANT_REASONS[GrantReason(reason)]
        for reason in grant.get("reasons", [])
        if reason in GrantReason._value2member_map_
    ]


def state_label(state: str) -> str:
    """An exchange's state in words."""
    return ExchangeState(state).label if state in ExchangeState._value2member_map_ else state


def who(step_who: str) -> str:
    """Whose step it is, in words."""
    return _WHO.get(step_who, step_who)


def shared_formats(host: Mapping[str, Any], application: Mapping[str, Any]) -> list[str]:
    """The formats both the host offers and the visitor accepts, in the host's order."""
    accepted = set(application.get("answers", {}).get("formats", []))
    return [value for value in host.get("answers", {}).get("formats", []) if value in accepted]


def request_values(application: Mapping[str, Any], formats: Sequence[str]) -> dict[str, list[str]]:
    """The request form prefilled from the application: its participants, its goals, the first shared format."""
    answers = application.get("answers", {})
    values = {"participants": [str(answers.get("participants", 1))], "goals": [str(answers.get("goals", ""))]}
    if formats:
        values["format"] = [formats[0]]
    return values
