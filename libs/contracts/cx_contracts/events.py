"""Events on the Kafka topics: the public contract other ECCP systems subscribe to (the models; `codec` reads and
writes them as Kafka records).

Every event carries `event_id`, `event_type`, `schema_version`, `occurred_at` (UTC) and the aggregate's
`revision`, in the JSON value and, for routing without parsing, in Kafka headers alongside a W3C
`traceparent`. Events are read tolerantly (unknown fields are ignored) and carry no personal data: no
contact, no e-mail address; the notifier resolves contacts from the owning service.

A withdrawn or erased host or application is a tombstone (null value) on its compacted topic; what is known
about it travels in headers and is read back as a `HostAnswersWithdrawn` / `VisitorAnswersWithdrawn`.
"""

from __future__ import annotations

from datetime import UTC
from enum import StrEnum
from typing import Annotated, ClassVar, Final, Literal, NamedTuple, TypeAlias
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from cx_contracts.exchange import ExchangeState, Grant, Side
from cx_contracts.questionnaire import DateRangeState, HostAnswersState, OrganisationState, VisitorAnswersState
from cx_contracts.scalars import UtcDatetime, utc_now
from cx_contracts.topics import EXCHANGE_EVENTS, HOST_ANSWERS, MATCH_FOUND, NOTIFICATION_SENT, VISITOR_ANSWERS
from cx_contracts.vocabulary import ExchangeFormat

HOST_ANSWERS_SUBMITTED: Final = "host-answers-submitted"
HOST_ANSWERS_WITHDRAWN: Final = "host-answers-withdrawn"
VISITOR_ANSWERS_SUBMITTED: Final = "visitor-answers-submitted"
VISITOR_ANSWERS_WITHDRAWN: Final = "visitor-answers-withdrawn"
MATCH_FOUND_EVENT: Final = "match-found"
NOTIFICATION_SENT_EVENT: Final = "notification-sent"
EXCHANGE_REQUESTED: Final = "exchange-requested"
EXCHANGE_ACCEPTED: Final = "exchange-accepted"
EXCHANGE_DECLINED: Final = "exchange-declined"
EXCHANGE_WITHDRAWN: Final = "exchange-withdrawn"
EXCHANGE_AGREED: Final = "exchange-agreed"
EXCHANGE_COMPLETED: Final = "exchange-completed"

MAX_MATCHES = 100
MAX_EXPLANATION_CRITERIA = 20

EVENTS = ConfigDict(extra="ignore", frozen=True)


class Envelope(BaseModel):
    """What every event carries, in its JSON value or, for a withdrawal, in the headers of its tombstone."""

    model_config = EVENTS

    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4, description="Unique id of this event; consumers deduplicate on it.")
    event_type: str = Field(description="What happened; fixed per event class.")
    schema_version: int = Field(
        default=1,
        ge=1,
        description="Version of this event's schema; additive changes keep it, upcasters lift older ones.",
    )
    # Both kinds say when and at which revision; only a tombstone that lost its headers does not know.
    occurred_at: UtcDatetime | None
    revision: int | None

    @property
    def key(self) -> str:
        """The Kafka record key: the id of the aggregate this event is about."""
        return str(getattr(self, self.KEY_FIELD))


class Event(Envelope):
    """An event with a JSON value."""

    occurred_at: UtcDatetime = Field(default_factory=utc_now, description="When the change happened, ISO 8601 in UTC.")
    revision: int = Field(ge=1, description="Revision of the aggregate after this change; grows by one per change.")


class WithdrawalReason(StrEnum):
    """Why a host or application left its topic."""

    WITHDRAWN = "withdrawn"  # the owner withdrew it (DELETE)
    ERASED = "erased"  # its data was erased on request; nothing may be kept


class Withdrawal(Envelope):
    """A tombstone's descriptor: the record value is null, these fields travel in Kafka headers."""

    event_id: UUID = Field(
        default_factory=uuid4,
        description="Unique id of this event (header event_id); derived from topic, key and revision when a "
        "tombstone arrives without headers, so a redelivery keeps its id.",
    )
    schema_version: int = Field(
        default=1, ge=1, description="Version of this descriptor's schema (header schema_version)."
    )
    occurred_at: UtcDatetime | None = Field(
        default_factory=utc_now,
        description="When the withdrawal happened, ISO 8601 in UTC (header occurred_at; null when absent).",
    )
    revision: int | None = Field(
        ge=1,
        description="Revision of the aggregate after the withdrawal (header revision; null when absent).",
    )
    reason: WithdrawalReason = Field(
        default=WithdrawalReason.WITHDRAWN, description="Why the entry left the topic (header reason)."
    )


class HostAnswersSubmitted(Event):
    """A host published or changed its catalogue entry: the full current state, no contact."""

    EVENT_TYPE: ClassVar[str] = HOST_ANSWERS_SUBMITTED
    TOPIC: ClassVar[str] = HOST_ANSWERS
    KEY_FIELD: ClassVar[str] = "host_id"

    event_type: Literal["host-answers-submitted"] = Field(default=HOST_ANSWERS_SUBMITTED, description="Event type.")
    host_id: UUID = Field(description="Id of the catalogue entry; the record key.")
    organisation: OrganisationState = Field(description="The host organisation (no contact person).")
    answers: HostAnswersState = Field(description="The host's full current answers.")


class VisitorAnswersSubmitted(Event):
    """A visitor submitted or changed its application: the full current state, no contact."""

    EVENT_TYPE: ClassVar[str] = VISITOR_ANSWERS_SUBMITTED
    TOPIC: ClassVar[str] = VISITOR_ANSWERS
    KEY_FIELD: ClassVar[str] = "application_id"

    event_type: Literal["visitor-answers-submitted"] = Field(
        default=VISITOR_ANSWERS_SUBMITTED, description="Event type."
    )
    application_id: UUID = Field(description="Id of the application; the record key.")
    organisation: OrganisationState = Field(description="The visiting organisation (no contact person).")
    answers: VisitorAnswersState = Field(description="The visitor's full current answers.")


MatchTrigger: TypeAlias = Literal["new-application", "revised-application", "new-host"]
CriterionName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class HostMatch(BaseModel):
    """One host proposed to a visitor, with its rank, score and why."""

    model_config = EVENTS

    host_id: UUID = Field(description="Id of the proposed host's catalogue entry.")
    rank: int = Field(ge=1, description="Position in the visitor's list, 1 = best fit.")
    score: FiniteFloat = Field(description="Blended score; higher fits better.")
    explanation: dict[CriterionName, FiniteFloat] = Field(
        default_factory=dict,
        max_length=MAX_EXPLANATION_CRITERIA,
        description="Each criterion's contribution to the score (e.g. semantic, ecosystems, topics, activities, "
        "keywords, preferred_country), so a person can see why the host was proposed.",
    )


class MatchFound(Event):
    """The matcher ranked hosts for an application."""

    EVENT_TYPE: ClassVar[str] = MATCH_FOUND_EVENT
    TOPIC: ClassVar[str] = MATCH_FOUND
    KEY_FIELD: ClassVar[str] = "application_id"

    event_type: Literal["match-found"] = Field(default=MATCH_FOUND_EVENT, description="Event type.")
    revision: int = Field(
        ge=1,
        description="Revision of the application this run matched; never decreases for an application "
        "(a new-host run re-uses the application's current revision).",
    )
    match_run_id: UUID = Field(description="Id of the matching run; consumers deduplicate on it.")
    application_id: UUID = Field(description="Id of the application matched; the record key.")
    trigger: MatchTrigger = Field(
        description="What started the run: a new application, a revised one, or a new or revised host."
    )
    model_version: str = Field(
        min_length=1, max_length=200, description="Embedding model and scoring configuration that produced the scores."
    )
    matches: list[HostMatch] = Field(
        max_length=MAX_MATCHES,
        description="Ranked hosts, best first: ranks 1..n in list order, each host once. Empty when no host fits.",
    )

    @property
    def run_order(self) -> str:
        """A text that sorts runs the way they happened: UTC time to the microsecond, then the run id (a consumer
        keeping an application's latest run keeps the one whose order is greatest)."""
        return f"{self.occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{self.match_run_id}"

    @field_validator("matches")
    @classmethod
    def _ranks_run_from_one(cls, matches: list[HostMatch]) -> list[HostMatch]:
        ranks = [match.rank for match in matches]
        if ranks != list(range(1, len(matches) + 1)):
            raise PydanticCustomError(
                "match_ranks",
                "Ranks must run 1, 2, ... {n} in list order; got {ranks}",
                {"n": len(matches), "ranks": ranks},
            )
        host_ids = [match.host_id for match in matches]
        if len(set(host_ids)) != len(host_ids):
            repeated = sorted({str(h) for h in host_ids if host_ids.count(h) > 1})
            raise PydanticCustomError(
                "match_hosts_repeated", "Each host appears once; repeated: {hosts}", {"hosts": ", ".join(repeated)}
            )
        return matches


class NotificationKind(StrEnum):
    """What a notification told its recipient."""

    MATCH_PROPOSAL_VISITOR = "match-proposal-visitor"
    MATCH_PROPOSAL_HOST = "match-proposal-host"
    DIGEST = "digest"
    # A step of an exchange, told to the side(s) it concerns (docs/notifier.md says who hears of which step).
    EXCHANGE_REQUESTED = "exchange-requested"
    EXCHANGE_ACCEPTED = "exchange-accepted"
    EXCHANGE_DECLINED = "exchange-declined"
    EXCHANGE_WITHDRAWN = "exchange-withdrawn"
    EXCHANGE_AGREED = "exchange-agreed"
    EXCHANGE_COMPLETED = "exchange-completed"


_PROPOSAL_RECIPIENT = {
    NotificationKind.MATCH_PROPOSAL_VISITOR: "visitor",
    NotificationKind.MATCH_PROPOSAL_HOST: "host",
}


class NotificationSent(Event):
    """The notifier sent a message to a host or a visitor (the address stays with the notifier)."""

    EVENT_TYPE: ClassVar[str] = NOTIFICATION_SENT_EVENT
    TOPIC: ClassVar[str] = NOTIFICATION_SENT
    KEY_FIELD: ClassVar[str] = "recipient_id"

    event_type: Literal["notification-sent"] = Field(default=NOTIFICATION_SENT_EVENT, description="Event type.")
    revision: int = Field(default=1, ge=1, description="A notification is never revised: always 1.")
    notification_id: UUID = Field(description="Id of the notification in the notifier's ledger.")
    recipient_kind: Literal["host", "visitor"] = Field(description="Whether the recipient is a host or a visitor.")
    recipient_id: UUID = Field(
        description="host_id or application_id of the recipient; the record key. Never an address."
    )
    kind: NotificationKind = Field(description="What the notification told the recipient.")
    match_run_id: UUID | None = Field(
        default=None, description="The matching run a proposal is about; required for match proposals."
    )
    exchange_id: UUID | None = Field(
        default=None, description="The exchange a step's notification is about; set for the exchange-* kinds."
    )
    sent_at: UtcDatetime = Field(description="When the mail relay accepted the message, ISO 8601 in UTC.")

    @field_validator("kind")
    @classmethod
    def _kind_suits_recipient(cls, kind: NotificationKind, info: ValidationInfo) -> NotificationKind:
        expected = _PROPOSAL_RECIPIENT.get(kind)
        recipient = info.data.get("recipient_kind")
        if expected is not None and recipient is not None and recipient != expected:
            raise PydanticCustomError(
                "notification_kind_recipient",
                "A {kind} notification goes to a {expected}, not a {recipient}",
                {"kind": kind.value, "expected": expected, "recipient": recipient},
            )
        return kind

    @field_validator("match_run_id")
    @classmethod
    def _proposal_names_its_run(cls, run: UUID | None, info: ValidationInfo) -> UUID | None:
        if run is None and info.data.get("kind") in _PROPOSAL_RECIPIENT:
            raise PydanticCustomError(
                "match_run_required", "A match proposal notification must name its match_run_id", {}
            )
        return run


class HostAnswersWithdrawn(Withdrawal):
    """A host withdrew its catalogue entry, or its data was erased: a tombstone on the host-answers topic."""

    EVENT_TYPE: ClassVar[str] = HOST_ANSWERS_WITHDRAWN
    TOPIC: ClassVar[str] = HOST_ANSWERS
    KEY_FIELD: ClassVar[str] = "host_id"

    event_type: Literal["host-answers-withdrawn"] = Field(default=HOST_ANSWERS_WITHDRAWN, description="Event type.")
    host_id: UUID = Field(description="Id of the catalogue entry withdrawn (the record key).")


class VisitorAnswersWithdrawn(Withdrawal):
    """A visitor withdrew its application, or its data was erased: a tombstone on the visitor-answers topic."""

    EVENT_TYPE: ClassVar[str] = VISITOR_ANSWERS_WITHDRAWN
    TOPIC: ClassVar[str] = VISITOR_ANSWERS
    KEY_FIELD: ClassVar[str] = "application_id"

    event_type: Literal["visitor-answers-withdrawn"] = Field(
        default=VISITOR_ANSWERS_WITHDRAWN, description="Event type."
    )
    application_id: UUID = Field(description="Id of the application withdrawn (the record key).")


class ExchangeStep(Event):
    """A step of an exchange: what every exchange event carries, the exchange's state after the step (event-carried
    state: the latest record per exchange is enough to rebuild from). No personal data: no message, agenda or
    report text, no contact."""

    TOPIC: ClassVar[str] = EXCHANGE_EVENTS
    KEY_FIELD: ClassVar[str] = "exchange_id"
    STATE: ClassVar[ExchangeState]

    exchange_id: UUID = Field(description="Id of the exchange; the record key.")
    revision: int = Field(ge=1, description="Revision of the exchange after this step; 1 when requested, +1 a step.")
    state: ExchangeState = Field(description="Where the exchange stands after this step.")
    application_id: UUID = Field(description="The visitor's application.")
    host_id: UUID = Field(description="The host's catalogue entry.")
    visitor_partnership: str | None = Field(description="The partnership of the visiting organisation.")
    host_partnership: str | None = Field(description="The partnership of the hosting organisation.")
    format: ExchangeFormat = Field(description="Physical or virtual.")
    dates: DateRangeState = Field(description="The days of the exchange, both included.")
    working_days: int = Field(ge=0, description="Working days of the stay (Monday to Friday), travel excluded.")
    participants: int = Field(
        ge=1,
        description="How many people visit; an accepted exchange takes this much of the "
        "host's capacity on each of its days.",
    )
    grant: Grant | None = Field(default=None, description="The grant, from the agreement on; None before.")

    @field_validator("state")
    @classmethod
    def _state_of_the_step(cls, state: ExchangeState) -> ExchangeState:
        if state is not cls.STATE:
            raise PydanticCustomError(
                "exchange_step_state",
                "A {event} leaves the exchange {expected}, not {state}",
                {"event": cls.EVENT_TYPE, "expected": cls.STATE.value, "state": state.value},
            )
        return state


class ExchangeRequested(ExchangeStep):
    """A visitor asked a host the matcher proposed to it for an exchange."""

    EVENT_TYPE: ClassVar[str] = EXCHANGE_REQUESTED
    STATE: ClassVar[ExchangeState] = ExchangeState.REQUESTED

    event_type: Literal["exchange-requested"] = Field(default=EXCHANGE_REQUESTED, description="Event type.")


class ExchangeAccepted(ExchangeStep):
    """The host accepted (double opt-in): the exchange takes up the host's capacity for its dates, and the
    visitor organisation's one physical exchange."""

    EVENT_TYPE: ClassVar[str] = EXCHANGE_ACCEPTED
    STATE: ClassVar[ExchangeState] = ExchangeState.ACCEPTED

    event_type: Literal["exchange-accepted"] = Field(default=EXCHANGE_ACCEPTED, description="Event type.")


class ExchangeDeclined(ExchangeStep):
    """The host declined the request."""

    EVENT_TYPE: ClassVar[str] = EXCHANGE_DECLINED
    STATE: ClassVar[ExchangeState] = ExchangeState.DECLINED

    event_type: Literal["exchange-declined"] = Field(default=EXCHANGE_DECLINED, description="Event type.")


class ExchangeWithdrawn(ExchangeStep):
    """One side withdrew before the exchange started: what it booked (if it was accepted) is free again."""

    EVENT_TYPE: ClassVar[str] = EXCHANGE_WITHDRAWN
    STATE: ClassVar[ExchangeState] = ExchangeState.WITHDRAWN

    event_type: Literal["exchange-withdrawn"] = Field(default=EXCHANGE_WITHDRAWN, description="Event type.")
    withdrawn_by: Side = Field(description="Which side withdrew.")
    previous_state: ExchangeState = Field(description="Where the exchange stood before (requested, accepted, agreed).")


class ExchangeAgreed(ExchangeStep):
    """Both partnerships confirmed the Commitment to Quality; the grant is computed and carried."""

    EVENT_TYPE: ClassVar[str] = EXCHANGE_AGREED
    STATE: ClassVar[ExchangeState] = ExchangeState.AGREED

    event_type: Literal["exchange-agreed"] = Field(default=EXCHANGE_AGREED, description="Event type.")
    grant: Grant = Field(description="The grant, computed at the agreement.")


class ExchangeCompleted(ExchangeStep):
    """The visitor filed the closing report after the end date."""

    EVENT_TYPE: ClassVar[str] = EXCHANGE_COMPLETED
    STATE: ClassVar[ExchangeState] = ExchangeState.COMPLETED

    event_type: Literal["exchange-completed"] = Field(default=EXCHANGE_COMPLETED, description="Event type.")
    grant: Grant = Field(description="The grant, as computed at the agreement.")


ExchangeEvent: TypeAlias = (
    ExchangeRequested | ExchangeAccepted | ExchangeDeclined | ExchangeWithdrawn | ExchangeAgreed | ExchangeCompleted
)
EXCHANGE_STEPS: tuple[type[ExchangeEvent], ...] = (
    ExchangeRequested,
    ExchangeAccepted,
    ExchangeDeclined,
    ExchangeWithdrawn,
    ExchangeAgreed,
    ExchangeCompleted,
)


ValueEvent: TypeAlias = HostAnswersSubmitted | VisitorAnswersSubmitted | MatchFound | NotificationSent | ExchangeEvent
Tombstone: TypeAlias = HostAnswersWithdrawn | VisitorAnswersWithdrawn
AnyEvent: TypeAlias = ValueEvent | Tombstone


class TopicEvents(NamedTuple):
    """What one topic carries: its event, the descriptor of its tombstones if the topic is compacted, and the other
    events it carries when it carries several (the exchange events: every step of an exchange, in order)."""

    event: type[ValueEvent]
    withdrawal: type[Tombstone] | None = None
    others: tuple[type[ValueEvent], ...] = ()

    @property
    def values(self) -> tuple[type[ValueEvent], ...]:
        """Every event with a value the topic carries, its first event first."""
        return (self.event, *self.others)

    @property
    def classes(self) -> tuple[type[AnyEvent], ...]:
        """Every event the topic carries, tombstone descriptor included."""
        return (*self.values, *((self.withdrawal,) if self.withdrawal is not None else ()))


TOPIC_EVENTS: dict[str, TopicEvents] = {
    HOST_ANSWERS: TopicEvents(HostAnswersSubmitted, HostAnswersWithdrawn),
    VISITOR_ANSWERS: TopicEvents(VisitorAnswersSubmitted, VisitorAnswersWithdrawn),
    MATCH_FOUND: TopicEvents(MatchFound),
    NOTIFICATION_SENT: TopicEvents(NotificationSent),
    EXCHANGE_EVENTS: TopicEvents(ExchangeRequested, others=EXCHANGE_STEPS[1:]),
}

EVENT_CLASSES: dict[str, type[AnyEvent]] = {
    cls.EVENT_TYPE: cls for carried in TOPIC_EVENTS.values() for cls in carried.classes
}
