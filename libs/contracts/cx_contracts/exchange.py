"""An exchange on the wire: its states, sides, grant, and the HTTP documents of the exchanges service.

A visitor asks a host that the matcher proposed to it for an exchange (requested); the host accepts or
declines (double opt-in); both partnerships' managers confirm the Commitment to Quality (agreed, with the
grant computed); after the end date the visitor files the closing report (completed). Either side may
withdraw before the start. The events of each step are in `cx_contracts.events`; what the service checks is
in docs/exchanges.md.

Requests, the agreement, the report and the message are free text the two sides write to each other: they are
shown to the two sides and their partnerships' managers, never carried by an event.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from cx_contracts.api import READ_MODEL, Page
from cx_contracts.questionnaire import (
    MAX_FREE_TEXT,
    MAX_PARTICIPANTS,
    MIN_FREE_TEXT,
    STRICT,
    DateRange,
    DateRangeState,
    FreeText,
    OrganisationState,
)
from cx_contracts.scalars import MULTILINE, UtcDatetime, text_length
from cx_contracts.vocabulary import ExchangeFormat

MAX_MESSAGE = 2000
GRANT_CURRENCY: Final = "EUR"

Message = Annotated[str, text_length(1, MAX_MESSAGE), MULTILINE]


class ExchangeState(StrEnum):
    """Where an exchange stands."""

    REQUESTED = "requested"  # the visitor asked; the host has not answered
    ACCEPTED = "accepted"  # the host accepted (double opt-in); the two sides see each other's contact
    AGREED = "agreed"  # both partnerships confirmed the Commitment to Quality; the grant is computed
    COMPLETED = "completed"  # the visitor filed the closing report
    DECLINED = "declined"  # the host declined the request
    WITHDRAWN = "withdrawn"  # one side withdrew before the exchange started

    @property
    def books(self) -> bool:
        """Whether an exchange in this state takes up the host's capacity and the visitor's one exchange."""
        return self in (ExchangeState.ACCEPTED, ExchangeState.AGREED, ExchangeState.COMPLETED)

    @property
    def label(self) -> str:
        """The state in words, for pages and mails."""
        return _STATE_LABELS[self]


_STATE_LABELS = {
    ExchangeState.REQUESTED: "Requested",
    ExchangeState.ACCEPTED: "Accepted",
    ExchangeState.AGREED: "Agreed",
    ExchangeState.COMPLETED: "Completed",
    ExchangeState.DECLINED: "Declined",
    ExchangeState.WITHDRAWN: "Withdrawn",
}

Side = Literal["visitor", "host"]
SIDES: tuple[Side, ...] = ("visitor", "host")


class GrantReason(StrEnum):
    """Why a physical exchange's lump sum was halved (or why there is none)."""

    VIRTUAL = "virtual"  # virtual exchanges get no grant
    SHORT_STAY = "short-stay"  # under 5 working days
    SHORT_DISTANCE = "short-distance"  # the two organisations' cities are under 200 km apart
    DISTANCE_UNKNOWN = "distance-unknown"  # a city could not be located: halved as for a short distance


def euros(cents: int) -> str:
    """An amount as pages and mails show it: EUR 2,700.00."""
    return f"{GRANT_CURRENCY} {cents // 100:,}.{cents % 100:02d}"


class Grant(BaseModel):
    """The grant of an exchange, as computed when both partnerships confirmed it (no personal data)."""

    model_config = READ_MODEL

    amount_cents: int = Field(ge=0, description="The grant in euro cents; 0 for a virtual exchange.")
    currency: Literal["EUR"] = Field(default=GRANT_CURRENCY, description="Always EUR.")
    cap_cents: int = Field(ge=0, description="The lump sum of the host country before any halving, in euro cents.")
    halved: bool = Field(description="Whether the lump sum was halved.")
    reasons: list[GrantReason] = Field(default_factory=list, description="Why it was halved, or why there is none.")
    distance_km: float | None = Field(
        default=None, ge=0, description="Geodesic distance between the two organisations' cities, when both located."
    )
    host_country: str = Field(description="The host's country, whose cap applies (ISO 3166-1 alpha-2).")
    working_days: int = Field(ge=0, description="Working days of the stay (Monday to Friday), travel excluded.")


# ---------------------------------------------------------------------------------------------------------
# HTTP documents
# ---------------------------------------------------------------------------------------------------------

_DATES = (
    "The days of the exchange, both included: inside one of the host's availability ranges and the visitor's "
    "travel window, 3 working days to the host's longest exchange, starting after today."
)
_GOALS = f"What the visitor wants to achieve in this exchange ({MIN_FREE_TEXT}-{MAX_FREE_TEXT} characters)."
_AGENDA = f"The programme the host proposes: meetings, visits, trainings ({MIN_FREE_TEXT}-{MAX_FREE_TEXT} characters)."


class ExchangeRequest(BaseModel):
    """Body of POST /api/exchanges: a visitor asks a host the matcher proposed to its application."""

    model_config = STRICT

    application_id: UUID = Field(description="The visitor's application (the caller's own).")
    host_id: UUID = Field(description="The host asked: one of the application's latest proposed hosts.")
    dates: DateRange = Field(description=_DATES)
    format: ExchangeFormat = Field(description="Physical or virtual: one both the host and the visitor accept.")
    participants: int = Field(
        strict=True, ge=1, le=MAX_PARTICIPANTS, description="How many people visit; at most the host's capacity."
    )
    goals: FreeText = Field(description=_GOALS)
    message: Message = Field(
        description=f"A word to the host (1-{MAX_MESSAGE} characters); only the two sides read it."
    )


class ExchangeAcceptance(BaseModel):
    """Body of POST /api/exchanges/{exchange_id}/accept: the host accepts and proposes its agenda."""

    model_config = STRICT

    agenda: FreeText = Field(description=_AGENDA)


class ExchangeDecline(BaseModel):
    """Body of POST /api/exchanges/{exchange_id}/decline: the host declines, optionally saying why."""

    model_config = STRICT

    reason: Message | None = Field(default=None, description="Why, for the visitor (optional).")


class ExchangeAgreement(BaseModel):
    """Body of PUT /api/exchanges/{exchange_id}/agreement: the Commitment to Quality the managers confirm."""

    model_config = STRICT

    goals: FreeText = Field(description=_GOALS)
    agenda: FreeText = Field(description=_AGENDA)


class ExchangeReport(BaseModel):
    """Body of POST /api/exchanges/{exchange_id}/report: the visitor's closing report, after the end date."""

    model_config = STRICT

    learnt: FreeText = Field(description=f"What the visitors learnt ({MIN_FREE_TEXT}-{MAX_FREE_TEXT} characters).")
    follow_up: FreeText = Field(
        description=f"What follows: joint projects, next visits, changes at home ({MIN_FREE_TEXT}-{MAX_FREE_TEXT} "
        "characters)."
    )


class ExchangeCreated(BaseModel):
    """Response of POST /api/exchanges (201)."""

    model_config = READ_MODEL

    exchange_id: UUID = Field(description="Id of the new exchange.")
    revision: int = Field(ge=1, description="Revision of the exchange; 1 when requested, +1 on every step.")


class ExchangeParty(BaseModel):
    """One side of an exchange: its record and organisation (no contact)."""

    model_config = READ_MODEL

    record_id: UUID = Field(description="The visitor's application_id, or the host's host_id.")
    partnership: str | None = Field(description="The partnership that validates the organisation.")
    organisation: OrganisationState = Field(description="The organisation, as its record named it.")


class PartyContact(BaseModel):
    """A side's contact person: shown to both sides and their managers once the host accepted, never before."""

    model_config = READ_MODEL

    name: str = Field(description="Full name of the contact person.")
    email: str = Field(description="Work e-mail address of the contact person.")


class NextStep(BaseModel):
    """Who must do what now."""

    model_config = READ_MODEL

    who: Literal["visitor", "host", "visitor-manager", "host-manager"] = Field(description="Whose step it is.")
    action: Literal["accept-or-decline", "wait", "confirm", "hold", "report", "agree"] = Field(
        description="What the step is."
    )
    text: str = Field(description="The step in words.")
    yours: bool = Field(default=False, description="Whether it is the caller's step.")


class ExchangeSummary(BaseModel):
    """An exchange in a list: who, when, where it stands."""

    model_config = READ_MODEL

    exchange_id: UUID = Field(description="Id of the exchange.")
    revision: int = Field(ge=1, description="Revision of the exchange.")
    state: ExchangeState = Field(description="Where the exchange stands.")
    visitor: ExchangeParty = Field(description="The visiting side.")
    host: ExchangeParty = Field(description="The hosting side.")
    dates: DateRangeState = Field(description="The days of the exchange, both included.")
    working_days: int = Field(ge=0, description="Working days of the stay.")
    format: ExchangeFormat = Field(description="Physical or virtual.")
    participants: int = Field(ge=1, description="How many people visit.")
    grant: Grant | None = Field(default=None, description="The grant, once agreed.")
    requested_at: UtcDatetime = Field(description="When the visitor asked.")
    updated_at: UtcDatetime = Field(description="When the exchange last changed.")
    your_sides: list[Side] = Field(default_factory=list, description="The sides the caller acts for.")


class Confirmation(BaseModel):
    """A partnership's confirmation of the Commitment to Quality."""

    model_config = READ_MODEL

    side: Side = Field(description="Whose partnership confirmed.")
    partnership: str | None = Field(description="The partnership.")
    confirmed_at: UtcDatetime = Field(description="When.")


class ExchangeView(ExchangeSummary):
    """An exchange as its two sides and their partnerships' managers read it."""

    goals: str = Field(description="What the visitor wants to achieve.")
    message: str = Field(description="The visitor's word to the host.")
    agenda: str | None = Field(default=None, description="The host's programme, from its acceptance.")
    decline_reason: str | None = Field(default=None, description="Why the host declined, if it said.")
    withdrawn_by: Side | None = Field(default=None, description="Which side withdrew.")
    confirmations: list[Confirmation] = Field(default_factory=list, description="The partnerships that confirmed.")
    report: ExchangeReport | None = Field(default=None, description="The closing report, once filed.")
    grant_estimate: Grant | None = Field(
        default=None,
        description="Until agreed, the grant as it would be computed now (the amount is fixed at agreement).",
    )
    contacts: dict[Side, PartyContact] | None = Field(
        default=None, description="Both sides' contacts: only once accepted (and agreed, completed), never before."
    )
    next_steps: list[NextStep] = Field(default_factory=list, description="Who must do what now.")


class ExchangesPage(Page):
    """A page of the caller's exchanges (a manager's: its partnership's), newest first."""

    items: list[ExchangeSummary] = Field(description="The exchanges on this page.")


class ExchangeTotals(BaseModel):
    """How the caller's exchanges (a manager's: its partnership's) stand: counts per state, granted amounts."""

    model_config = READ_MODEL

    by_state: dict[ExchangeState, int] = Field(description="How many exchanges are in each state.")
    total: int = Field(ge=0, description="How many exchanges in all.")
    granted_cents: int = Field(ge=0, description="The sum of the grants of agreed and completed exchanges, in cents.")
    currency: Literal["EUR"] = Field(default=GRANT_CURRENCY, description="Always EUR.")
