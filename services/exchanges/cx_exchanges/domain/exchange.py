"""An exchange and the scheme's rules for each of its steps: request, accept, decline, withdraw, agree, report.

Every step is a function from the exchange as read (at one revision) to the exchange after the step, or a
`Refusal` saying why not; nothing here touches a store. Who the caller acts for (its own sides, the sides it
oversees as a partnership manager) is decided by the caller's token and handed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from cx_contracts.api import RecordFacts
from cx_contracts.events import (
    ExchangeAccepted,
    ExchangeAgreed,
    ExchangeCompleted,
    ExchangeDeclined,
    ExchangeEvent,
    ExchangeRequested,
    ExchangeWithdrawn,
)
from cx_contracts.exchange import SIDES, ExchangeRequest, ExchangeState, Grant, Side
from cx_contracts.questionnaire import DateRangeState, working_days
from cx_contracts.vocabulary import MIN_EXCHANGE_DAYS, ExchangeFormat

# The states in which either side may still withdraw (before the start date).
WITHDRAWABLE = frozenset({ExchangeState.REQUESTED, ExchangeState.ACCEPTED, ExchangeState.AGREED})
OPEN = WITHDRAWABLE  # a request in these states stands; a second one to the same host is refused


@dataclass(frozen=True)
class Refusal(Exception):
    """Why a step cannot be taken: `invalid` input (422, naming fields), a `conflict` with the exchange's state or
    the scheme's rules (409), a step that is `forbidden` to the caller (403), or a record `missing` for it (404)."""

    kind: Literal["invalid", "conflict", "forbidden", "missing"]
    detail: str
    fields: tuple[tuple[str, str], ...] = ()  # (field, message) for `invalid`

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class ExchangeSide:
    """One side of an exchange: its record (application or host entry), its owner, partnership and organisation."""

    record_id: str
    owner: str
    partnership: str | None
    organisation: Mapping[str, Any]

    @classmethod
    def of(cls, facts: RecordFacts) -> ExchangeSide:
        """The side a record's facts describe."""
        return cls(str(facts.id), facts.owner, facts.partnership, facts.organisation.model_dump(mode="json"))

    @property
    def country(self) -> str:
        """The organisation's country (ISO 3166-1 alpha-2)."""
        return str(self.organisation.get("country", ""))


@dataclass(frozen=True)
class Report:
    """The visitor's closing report."""

    learnt: str
    follow_up: str


@dataclass(frozen=True)
class Exchange:
    """An exchange as stored: its two sides, what was asked, and where it stands."""

    id: str
    revision: int
    state: ExchangeState
    visitor: ExchangeSide
    host: ExchangeSide
    dates: DateRangeState
    format: ExchangeFormat
    participants: int
    goals: str
    message: str
    requested_at: datetime
    updated_at: datetime
    agenda: str | None = None
    decline_reason: str | None = None
    withdrawn_by: Side | None = None
    previous_state: ExchangeState | None = None
    confirmations: Mapping[Side, datetime] = field(default_factory=dict)
    report: Report | None = None
    grant: Grant | None = None

    @property
    def sides(self) -> dict[Side, ExchangeSide]:
        """Both sides by name."""
        return {"visitor": self.visitor, "host": self.host}

    @property
    def working_days(self) -> int:
        """Monday-to-Friday days of the stay."""
        return working_days(self.dates.start, self.dates.end)

    @property
    def physical(self) -> bool:
        """Whether the visitors travel (and so the exchange may be granted, and counts as the visitor's one)."""
        return self.format is ExchangeFormat.PHYSICAL

    def unconfirmed(self) -> list[Side]:
        """The sides whose partnership has not confirmed the Commitment to Quality."""
        return [side for side in SIDES if side not in self.confirmations]


# ---------------------------------------------------------------------------------------------------------
# The request
# ---------------------------------------------------------------------------------------------------------


def request_exchange(
    request: ExchangeRequest,
    *,
    exchange_id: str,
    caller: str,
    application: RecordFacts | None,
    host: RecordFacts | None,
    proposed_hosts: Collection[str],
    today: date,
    now: datetime,
) -> Exchange:
    """A visitor's request to a host proposed to its application, checked against both sides' answers."""
    if application is None or application.owner != caller or application.kind != "visitor":
        raise Refusal("missing", "No such application of yours.")
    problems: list[tuple[str, str]] = []
    if not application.active:
        problems.append(("application_id", "This application is withdrawn; apply again to ask a host."))
    host_id = str(request.host_id)
    if host is None or host.kind != "host" or not host.active:
        problems.append(("host_id", "This host is no longer in the catalogue."))
        raise Refusal("invalid", "The request cannot be made as it is.", tuple(problems))
    if host.owner == caller:
        problems.append(("host_id", "An organisation cannot visit itself."))
    if host_id not in proposed_hosts:
        problems.append(("host_id", "This host is not among the hosts proposed to this application: ask one of them."))
    if host.organisation.country == application.organisation.country:
        problems.append(("host_id", "The host is in your own country; exchanges are between two countries."))
    problems += _format_problems(request.format, host, application)
    problems += _date_problems(request.dates, host, application, today)
    capacity = int(getattr(host.answers, "capacity", 0))
    if request.participants > capacity:
        problems.append(("participants", f"The host receives at most {capacity} visiting participants at once."))
    if problems:
        raise Refusal("invalid", "The request cannot be made as it is.", tuple(problems))
    return Exchange(
        id=exchange_id,
        revision=1,
        state=ExchangeState.REQUESTED,
        visitor=ExchangeSide.of(application),
        host=ExchangeSide.of(host),
        dates=DateRangeState(start=request.dates.start, end=request.dates.end),
        format=request.format,
        participants=request.participants,
        goals=request.goals,
        message=request.message,
        requested_at=now,
        updated_at=now,
    )


def _format_problems(wanted: ExchangeFormat, host: RecordFacts, application: RecordFacts) -> list[tuple[str, str]]:
    problems = []
    for who, facts in (("host offers", host), ("visitor accepts", application)):
        formats = [ExchangeFormat(value) for value in getattr(facts.answers, "formats", [])]
        if wanted not in formats:
            offered = " and ".join(f.value for f in formats) or "no format"
            problems.append(("format", f"The {who} {offered} exchanges only."))
    return problems


def _date_problems(
    dates: DateRangeState, host: RecordFacts, application: RecordFacts, today: date
) -> list[tuple[str, str]]:
    problems = []
    if dates.start <= today:
        problems.append(("dates.start", f"An exchange starts after today ({today.isoformat()})."))
    days = working_days(dates.start, dates.end)
    longest = int(getattr(host.answers, "max_days", MIN_EXCHANGE_DAYS))
    if not MIN_EXCHANGE_DAYS <= days <= longest:
        problems.append(
            (
                "dates",
                f"The dates hold {days} working days; this host receives visitors for {MIN_EXCHANGE_DAYS} to "
                f"{longest} working days.",
            )
        )
    availability: Sequence[DateRangeState] = getattr(host.answers, "availability", [])
    if availability and not any(_holds(period, dates) for period in availability):
        periods = "; ".join(f"{p.start.isoformat()} to {p.end.isoformat()}" for p in availability)
        problems.append(("dates", f"The host is available {periods}: choose dates inside one of these."))
    window: DateRangeState | None = getattr(application.answers, "travel_window", None)
    if window is not None and not _holds(window, dates):
        problems.append(
            (
                "dates",
                f"Your travel window is {window.start.isoformat()} to {window.end.isoformat()}: choose dates "
                "inside it.",
            )
        )
    return problems


def _holds(period: DateRangeState, dates: DateRangeState) -> bool:
    return period.start <= dates.start and dates.end <= period.end


def refuse_duplicate(exchange: Exchange, open_requests: Sequence[Exchange]) -> None:
    """A visitor asks a host once at a time for the same application."""
    if any(other.host.record_id == exchange.host.record_id for other in open_requests):
        raise Refusal("conflict", "This application already has an open request to this host.")


# ---------------------------------------------------------------------------------------------------------
# The steps after it
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acting:
    """For whom the caller acts on an exchange: the sides its organisation owns, the sides it oversees."""

    own: frozenset[Side]
    overseen: frozenset[Side]

    @property
    def reads(self) -> bool:
        """Whether the caller may read the exchange at all."""
        return bool(self.own or self.overseen)


def _as_party(acting: Acting, side: Side | None, step: str) -> Side:
    """The side the caller takes `step` for (`side`, or either of its own); a manager or the other side may not."""
    if not acting.own:
        raise Refusal("forbidden", "Partnership managers confirm the Commitment to Quality; they do not " + step + ".")
    if side is not None and side not in acting.own:
        raise Refusal("forbidden", f"Only the {side} organisation may {step}.")
    return side or sorted(acting.own)[0]


def _in_state(exchange: Exchange, step: str, *states: ExchangeState) -> None:
    if exchange.state not in states:
        raise Refusal("conflict", f"This exchange is {exchange.state.value}; it cannot be {step} now.")


def _before_start(exchange: Exchange, today: date, step: str) -> None:
    if today >= exchange.dates.start:
        raise Refusal(
            "conflict", f"The exchange starts on {exchange.dates.start.isoformat()}; it can no longer be {step}."
        )


def _stepped(exchange: Exchange, now: datetime, **changes: Any) -> Exchange:
    return replace(exchange, revision=exchange.revision + 1, updated_at=now, **changes)


def accept(
    exchange: Exchange, acting: Acting, agenda: str, host: RecordFacts | None, today: date, now: datetime
) -> Exchange:
    """The host accepts a request (double opt-in) and proposes its agenda; capacity is booked by the caller."""
    _as_party(acting, "host", "accept a request")
    _in_state(exchange, "accepted", ExchangeState.REQUESTED)
    _before_start(exchange, today, "accepted")
    if host is None or not host.active:
        raise Refusal("conflict", "The host entry was withdrawn; publish it again to accept.")
    capacity = int(getattr(host.answers, "capacity", 0))
    if exchange.participants > capacity:
        raise Refusal("conflict", f"Your entry now receives at most {capacity} participants at once.")
    return _stepped(exchange, now, state=ExchangeState.ACCEPTED, agenda=agenda, host=ExchangeSide.of(host))


def decline(exchange: Exchange, acting: Acting, reason: str | None, now: datetime) -> Exchange:
    """The host declines a request."""
    _as_party(acting, "host", "decline a request")
    _in_state(exchange, "declined", ExchangeState.REQUESTED)
    return _stepped(exchange, now, state=ExchangeState.DECLINED, decline_reason=reason)


def withdraw(exchange: Exchange, acting: Acting, today: date, now: datetime) -> Exchange:
    """Either side withdraws before the exchange starts; what it booked is freed by the caller."""
    side = _as_party(acting, None, "withdraw an exchange")
    _in_state(exchange, "withdrawn", *WITHDRAWABLE)
    _before_start(exchange, today, "withdrawn")
    return _stepped(exchange, now, state=ExchangeState.WITHDRAWN, withdrawn_by=side, previous_state=exchange.state)


def revise_agreement(exchange: Exchange, acting: Acting, goals: str, agenda: str, now: datetime) -> Exchange:
    """Either side revises the Commitment to Quality before it is agreed; the managers confirm it afresh."""
    _as_party(acting, None, "revise the agreement")
    _in_state(exchange, "revised", ExchangeState.ACCEPTED)
    if goals == exchange.goals and agenda == exchange.agenda:
        return exchange
    return _stepped(exchange, now, goals=goals, agenda=agenda, confirmations={})


def confirm(exchange: Exchange, acting: Acting, now: datetime) -> Exchange:
    """A partnership's manager confirms the Commitment to Quality for the sides it oversees; the grant is added by
    `agree` once both sides have."""
    if not acting.overseen:
        raise Refusal("forbidden", "The partnerships' managers confirm the Commitment to Quality.")
    _in_state(exchange, "confirmed", ExchangeState.ACCEPTED)
    pending = [side for side in exchange.unconfirmed() if side in acting.overseen]
    if not pending:
        raise Refusal("conflict", "Your partnership has already confirmed this agreement.")
    confirmations = {**exchange.confirmations, **{side: now for side in pending}}
    return _stepped(exchange, now, confirmations=confirmations)


def agree(exchange: Exchange, grant: Grant) -> Exchange:
    """Once both partnerships confirmed: the exchange is agreed, with its grant fixed."""
    return replace(exchange, state=ExchangeState.AGREED, grant=grant)


def report(exchange: Exchange, acting: Acting, learnt: str, follow_up: str, today: date, now: datetime) -> Exchange:
    """The visitor files its closing report after the end date: the exchange is completed."""
    _as_party(acting, "visitor", "file the closing report")
    _in_state(exchange, "reported on", ExchangeState.AGREED)
    if today <= exchange.dates.end:
        raise Refusal("conflict", f"The closing report is filed after the last day, {exchange.dates.end.isoformat()}.")
    return _stepped(exchange, now, state=ExchangeState.COMPLETED, report=Report(learnt, follow_up))


# ---------------------------------------------------------------------------------------------------------
# Its events
# ---------------------------------------------------------------------------------------------------------

_STEP_EVENTS: dict[ExchangeState, type[ExchangeEvent]] = {
    ExchangeState.REQUESTED: ExchangeRequested,
    ExchangeState.ACCEPTED: ExchangeAccepted,
    ExchangeState.DECLINED: ExchangeDeclined,
    ExchangeState.WITHDRAWN: ExchangeWithdrawn,
    ExchangeState.AGREED: ExchangeAgreed,
    ExchangeState.COMPLETED: ExchangeCompleted,
}


def step_event(before: Exchange | None, after: Exchange) -> ExchangeEvent | None:
    """The event announcing a step, or None when the step changed no state (a revised agreement, one confirmation).

    It carries the exchange's facts, never what the two sides wrote (message, goals, agenda, report)."""
    if before is not None and before.state is after.state:
        return None
    fields: dict[str, Any] = {
        "exchange_id": after.id,
        "revision": after.revision,
        "occurred_at": after.updated_at,
        "state": after.state,
        "application_id": after.visitor.record_id,
        "host_id": after.host.record_id,
        "visitor_partnership": after.visitor.partnership,
        "host_partnership": after.host.partnership,
        "format": after.format,
        "dates": after.dates,
        "working_days": after.working_days,
        "participants": after.participants,
        "grant": after.grant,
    }
    if after.state is ExchangeState.WITHDRAWN:
        fields |= {"withdrawn_by": after.withdrawn_by, "previous_state": after.previous_state}
    return _STEP_EVENTS[after.state].model_validate(fields)
