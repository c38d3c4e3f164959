"""Events on the Kafka topics: the public contract other ECCP systems subscribe to.

Every event carries `event_id`, `event_type`, `schema_version`, `occurred_at` (UTC) and the aggregate's
`revision`, in the JSON value and, for routing without parsing, in Kafka headers alongside a W3C
`traceparent`. Events are read tolerantly (unknown fields are ignored) and carry no personal data: no
contact, no e-mail address; the notifier resolves contacts from the owning service.

A withdrawn or erased host or application is a tombstone (null value) on its compacted topic; what is known
about it travels in headers and is read back as a `HostAnswersWithdrawn` / `VisitorAnswersWithdrawn`.

Producing: `event_topic(e)`, `event_key(e)`, `event_value(e)`, `event_headers(e, traceparent)`.
Consuming: `parse_event(topic, value, headers, key=...)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeAlias
from uuid import UUID, uuid4, uuid5

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from cx_contracts.errors import ContractError
from cx_contracts.questionnaire import HostAnswersState, OrganisationState, VisitorAnswersState
from cx_contracts.scalars import UtcDatetime, utc_now
from cx_contracts.topics import HOST_ANSWERS, MATCH_FOUND, NOTIFICATION_SENT, VISITOR_ANSWERS, source_topic
from cx_contracts.traceparent import (
    child_traceparent,
    is_valid_traceparent,
    new_traceparent,
    trace_id_of,
    validate_traceparent,
)

# Kafka header names. Values are UTF-8 text.
HEADER_EVENT_ID = "event_id"
HEADER_EVENT_TYPE = "event_type"
HEADER_SCHEMA_VERSION = "schema_version"
HEADER_REVISION = "revision"
HEADER_OCCURRED_AT = "occurred_at"
HEADER_REASON = "reason"
HEADER_TRACEPARENT = "traceparent"
HEADER_CONTENT_TYPE = "content-type"
JSON_CONTENT_TYPE = "application/json"

HOST_ANSWERS_SUBMITTED = "host-answers-submitted"
HOST_ANSWERS_WITHDRAWN = "host-answers-withdrawn"
VISITOR_ANSWERS_SUBMITTED = "visitor-answers-submitted"
VISITOR_ANSWERS_WITHDRAWN = "visitor-answers-withdrawn"
MATCH_FOUND_EVENT = "match-found"
NOTIFICATION_SENT_EVENT = "notification-sent"

MAX_MATCHES = 100
MAX_EXPLANATION_CRITERIA = 20

EVENTS = ConfigDict(extra="ignore", frozen=True)

_EVENT_ID = "Unique id of this event; consumers deduplicate on it."
_SCHEMA_VERSION = "Version of this event's schema; additive changes keep it, upcasters lift older ones."
_OCCURRED_AT = "When the change happened, ISO 8601 in UTC."


class Event(BaseModel):
    """Fields every event carries."""

    model_config = EVENTS

    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4, description=_EVENT_ID)
    event_type: str = Field(description="What happened; fixed per event class.")
    schema_version: int = Field(default=1, ge=1, description=_SCHEMA_VERSION)
    occurred_at: UtcDatetime = Field(default_factory=utc_now, description=_OCCURRED_AT)
    revision: int = Field(ge=1, description="Revision of the aggregate after this change; grows by one per change.")

    @property
    def key(self) -> str:
        """The Kafka record key: the id of the aggregate this event is about."""
        return str(getattr(self, self.KEY_FIELD))


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


class WithdrawalReason(StrEnum):
    """Why a host or application left its topic."""

    WITHDRAWN = "withdrawn"  # the owner withdrew it (DELETE)
    ERASED = "erased"  # its data was erased on request; nothing may be kept


class Withdrawal(BaseModel):
    """A tombstone's descriptor: the record value is null, these fields travel in Kafka headers."""

    model_config = EVENTS

    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    event_id: UUID = Field(
        default_factory=uuid4,
        description="Unique id of this event (header event_id); derived from topic, key and revision when a "
        "tombstone arrives without headers, so a redelivery keeps its id.",
    )
    event_type: str = Field(description="What happened (header event_type).")
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

    @property
    def key(self) -> str:
        """The Kafka record key: the id of the aggregate withdrawn."""
        return str(getattr(self, self.KEY_FIELD))


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


AnyEvent: TypeAlias = (
    HostAnswersSubmitted
    | HostAnswersWithdrawn
    | VisitorAnswersSubmitted
    | VisitorAnswersWithdrawn
    | MatchFound
    | NotificationSent
)

EVENT_CLASSES: dict[str, type[Event] | type[Withdrawal]] = {
    cls.EVENT_TYPE: cls
    for cls in (
        HostAnswersSubmitted,
        HostAnswersWithdrawn,
        VisitorAnswersSubmitted,
        VisitorAnswersWithdrawn,
        MatchFound,
        NotificationSent,
    )
}

# What each topic carries: the event with a value, and the tombstone descriptor if the topic is compacted.
TOPIC_EVENTS: dict[str, tuple[type[Event], type[Withdrawal] | None]] = {
    HOST_ANSWERS: (HostAnswersSubmitted, HostAnswersWithdrawn),
    VISITOR_ANSWERS: (VisitorAnswersSubmitted, VisitorAnswersWithdrawn),
    MATCH_FOUND: (MatchFound, None),
    NOTIFICATION_SENT: (NotificationSent, None),
}

# Namespace for ids of tombstones that arrive without headers, so a redelivery gets the same id.
_TOMBSTONE_NAMESPACE = UUID("6f0d2a52-3f7b-4c59-9b8e-0c8f5f1d7a11")


# ---------------------------------------------------------------------------------------------------------
# Producing
# ---------------------------------------------------------------------------------------------------------


def event_topic(event: Event | Withdrawal) -> str:
    """The topic an event is published on."""
    return event.TOPIC


def event_key(event: Event | Withdrawal) -> bytes:
    """The record key: the aggregate's id, UTF-8."""
    return event.key.encode()


def event_value(event: Event | Withdrawal) -> bytes | None:
    """The record value: the event as JSON, or None (a tombstone) for a withdrawal."""
    if isinstance(event, Withdrawal):
        return None
    return event.model_dump_json().encode()


def event_headers(event: Event | Withdrawal, traceparent: str | None = None) -> list[tuple[str, bytes]]:
    """Kafka headers for an event or a tombstone; a new trace is started when `traceparent` is None."""
    trace = new_traceparent() if traceparent is None else validate_traceparent(traceparent)
    headers = [
        (HEADER_EVENT_ID, str(event.event_id)),
        (HEADER_EVENT_TYPE, event.event_type),
        (HEADER_SCHEMA_VERSION, str(event.schema_version)),
    ]
    if event.revision is not None:
        headers.append((HEADER_REVISION, str(event.revision)))
    if event.occurred_at is not None:
        headers.append((HEADER_OCCURRED_AT, event.occurred_at.isoformat()))
    if isinstance(event, Withdrawal):
        headers.append((HEADER_REASON, event.reason.value))
    else:
        headers.append((HEADER_CONTENT_TYPE, JSON_CONTENT_TYPE))
    headers.append((HEADER_TRACEPARENT, trace))
    return [(name, value.encode()) for name, value in headers]


def headers_as_text(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Headers as a str -> str dict, the shape FastStream's publish(headers=...) takes."""
    return {name: value.decode() for name, value in headers}


# ---------------------------------------------------------------------------------------------------------
# Consuming
# ---------------------------------------------------------------------------------------------------------

HeaderInput: TypeAlias = (
    Mapping[str, str | bytes | None] | Iterable[tuple[str, str | bytes | None]] | None
)


@dataclass(frozen=True)
class EventHeaders:
    """The contract headers of a record, read tolerantly: absent ones are None, unknown ones ignored."""

    event_id: UUID | None = None
    event_type: str | None = None
    schema_version: int | None = None
    revision: int | None = None
    occurred_at: datetime | None = None
    reason: str | None = None
    traceparent: str | None = None  # None when absent or not valid W3C: start a new trace then
    content_type: str | None = None


def read_event_headers(headers: HeaderInput) -> EventHeaders:
    """Parse contract headers; a malformed one raises ContractError, except a traceparent, which is dropped."""
    raw: dict[str, str] = {}
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for name, value in pairs:
        if value is None:
            continue
        try:
            raw[name.lower()] = value.decode() if isinstance(value, bytes | bytearray) else str(value)
        except UnicodeDecodeError:
            raise ContractError(f"header {name!r} is not UTF-8 text") from None

    def parsed(name: str, convert: Callable[[str], Any]) -> Any:
        if name not in raw:
            return None
        try:
            return convert(raw[name])
        except ValueError:
            raise ContractError(f"header {name!r} has a malformed value {raw[name]!r}") from None

    revision = parsed(HEADER_REVISION, int)
    if revision is not None and revision < 1:
        raise ContractError(f"header {HEADER_REVISION!r} must be 1 or more, got {revision}")
    occurred_at = parsed(HEADER_OCCURRED_AT, datetime.fromisoformat)
    traceparent = raw.get(HEADER_TRACEPARENT)
    return EventHeaders(
        event_id=parsed(HEADER_EVENT_ID, UUID),
        event_type=raw.get(HEADER_EVENT_TYPE),
        schema_version=parsed(HEADER_SCHEMA_VERSION, int),
        revision=revision,
        occurred_at=occurred_at,
        reason=raw.get(HEADER_REASON),
        traceparent=traceparent if is_valid_traceparent(traceparent) else None,
        content_type=raw.get(HEADER_CONTENT_TYPE),
    )


Upcaster: TypeAlias = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """Small functions lifting an event payload from one schema_version to the next."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register the step from `from_version` to `from_version + 1` of `event_type`."""

        def decorate(step: Upcaster) -> Upcaster:
            if (event_type, from_version) in self._steps:
                raise ValueError(f"an upcaster for {event_type} v{from_version} is already registered")
            self._steps[(event_type, from_version)] = step
            return step

        return decorate

    def upcast(self, event_type: str, payload: dict[str, Any], to_version: int) -> dict[str, Any]:
        """Lift `payload` step by step to `to_version`; a newer payload is left as it is (read tolerantly)."""
        version = payload.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ContractError(f"{event_type}: schema_version must be an integer of 1 or more, got {version!r}")
        while version < to_version:
            step = self._steps.get((event_type, version))
            if step is None:
                raise ContractError(f"{event_type}: no upcaster from schema_version {version} to {version + 1}")
            payload = step(dict(payload))
            version += 1
            payload["schema_version"] = version
        return payload


# The platform's registry. Every event is at schema_version 1, so it is empty; a schema change registers
# its step here, e.g. @UPCASTERS.register(MATCH_FOUND_EVENT, from_version=1).
UPCASTERS = Upcasters()


# A deployment may prefix every topic with a namespace such as "staging." (the service kit's topic_namespace).
_TOPIC_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9-]{0,40}\.")


def _contract_topic(name: str) -> str | None:
    """The contract topic a (possibly namespaced, possibly dead-letter) topic name stands for."""
    name = source_topic(name)
    for topic in TOPIC_EVENTS:
        if name == topic or (name.endswith(topic) and _TOPIC_NAMESPACE.fullmatch(name[: -len(topic)])):
            return topic
    return None


def _resolve(topic_or_type: str) -> tuple[str | None, tuple[type[Event] | type[Withdrawal], ...]]:
    topic = _contract_topic(topic_or_type)
    if topic is not None:
        event_class, tombstone_class = TOPIC_EVENTS[topic]
        return topic, tuple(c for c in (event_class, tombstone_class) if c is not None)
    if topic_or_type in EVENT_CLASSES:
        return None, (EVENT_CLASSES[topic_or_type],)
    known = ", ".join(sorted(TOPIC_EVENTS) + sorted(EVENT_CLASSES))
    raise ContractError(f"unknown topic or event type {topic_or_type!r}; known: {known}")


def _key_text(key: bytes | str | UUID | None) -> str | None:
    if key is None:
        return None
    if isinstance(key, bytes | bytearray):
        try:
            return key.decode()
        except UnicodeDecodeError:
            raise ContractError("record key is not UTF-8 text") from None
    return str(key)


def parse_event(
    topic_or_type: str,
    value: bytes | str | None,
    headers: HeaderInput = None,
    *,
    key: bytes | str | UUID | None = None,
    upcasters: Upcasters = UPCASTERS,
) -> AnyEvent:
    """Read one record into its event model, or a Withdrawn descriptor for a tombstone; raise ContractError if bad.

    `topic_or_type` is the topic the record came from (namespaced or `.dlq` names work too) or an event type.
    `key` is the record key: required for a tombstone, checked against the payload otherwise.
    """
    topic, candidates = _resolve(topic_or_type)
    where = topic or topic_or_type
    meta = read_event_headers(headers)
    key_text = _key_text(key)

    if value is None:
        return _parse_tombstone(where, topic, candidates, meta, key_text)

    event_classes = [c for c in candidates if issubclass(c, Event)]
    if not event_classes:
        raise ContractError(f"{where}: a {candidates[0].EVENT_TYPE} record carries no value (a tombstone)")
    try:
        payload = json.loads(value)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ContractError(f"{where}: record value is not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise ContractError(f"{where}: record value must be a JSON object, got {type(payload).__name__}")

    declared = {t for t in (payload.get("event_type"), meta.event_type) if t is not None}
    if len(declared) > 1:
        raise ContractError(
            f"{where}: header event_type {meta.event_type!r} differs from payload {payload['event_type']!r}"
        )
    event_type = declared.pop() if declared else event_classes[0].EVENT_TYPE
    matching = [c for c in event_classes if c.EVENT_TYPE == event_type]
    if not matching:
        allowed = ", ".join(c.EVENT_TYPE for c in candidates)
        raise ContractError(f"{where}: event type {event_type!r} does not belong here (expected {allowed})")
    event_class = matching[0]

    # The payload is the source of truth; headers only fill what an older or sloppier producer left out.
    payload["event_type"] = event_type
    for field, header_value in (
        ("event_id", meta.event_id),
        ("schema_version", meta.schema_version),
        ("revision", meta.revision),
        ("occurred_at", meta.occurred_at),
    ):
        if field not in payload and header_value is not None:
            payload[field] = header_value
    payload = upcasters.upcast(event_type, payload, event_class.SCHEMA_VERSION)

    try:
        event = event_class.model_validate(payload)
    except ValidationError as error:
        raise ContractError.from_validation(f"{where}: invalid {event_class.__name__}", error) from None
    if key_text is not None and key_text != event.key:
        raise ContractError(f"{where}: record key {key_text!r} differs from {event_class.KEY_FIELD} {event.key!r}")
    return event  # type: ignore[return-value]


def _parse_tombstone(
    where: str,
    topic: str | None,
    candidates: tuple[type[Event] | type[Withdrawal], ...],
    meta: EventHeaders,
    key_text: str | None,
) -> AnyEvent:
    tombstones = [c for c in candidates if issubclass(c, Withdrawal)]
    if not tombstones:
        raise ContractError(f"{where}: a {candidates[0].EVENT_TYPE} record cannot be a tombstone (null value)")
    tombstone_class = tombstones[0]
    if meta.event_type is not None and meta.event_type != tombstone_class.EVENT_TYPE:
        raise ContractError(
            f"{where}: a tombstone's event_type header must be {tombstone_class.EVENT_TYPE!r}, got {meta.event_type!r}"
        )
    if key_text is None:
        raise ContractError(f"{where}: a tombstone needs its record key to say which {tombstone_class.KEY_FIELD} went")
    fields: dict[str, Any] = {
        tombstone_class.KEY_FIELD: key_text,
        "event_id": meta.event_id or uuid5(_TOMBSTONE_NAMESPACE, f"{topic or where}/{key_text}/{meta.revision}"),
        "schema_version": meta.schema_version or 1,
        "occurred_at": meta.occurred_at,
        "revision": meta.revision,
    }
    if meta.reason is not None:
        fields["reason"] = meta.reason
    try:
        return tombstone_class.model_validate(fields)  # type: ignore[return-value]
    except ValidationError as error:
        raise ContractError.from_validation(f"{where}: invalid {tombstone_class.__name__}", error) from None


__all__ = [
    "EVENT_CLASSES",
    "HEADER_CONTENT_TYPE",
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_OCCURRED_AT",
    "HEADER_REASON",
    "HEADER_REVISION",
    "HEADER_SCHEMA_VERSION",
    "HEADER_TRACEPARENT",
    "HOST_ANSWERS_SUBMITTED",
    "HOST_ANSWERS_WITHDRAWN",
    "JSON_CONTENT_TYPE",
    "MATCH_FOUND_EVENT",
    "MAX_EXPLANATION_CRITERIA",
    "MAX_MATCHES",
    "NOTIFICATION_SENT_EVENT",
    "TOPIC_EVENTS",
    "UPCASTERS",
    "VISITOR_ANSWERS_SUBMITTED",
    "VISITOR_ANSWERS_WITHDRAWN",
    "AnyEvent",
    "ContractError",
    "Event",
    "EventHeaders",
    "HeaderInput",
    "HostAnswersSubmitted",
    "HostAnswersWithdrawn",
    "HostMatch",
    "MatchFound",
    "MatchTrigger",
    "NotificationKind",
    "NotificationSent",
    "Upcaster",
    "Upcasters",
    "VisitorAnswersSubmitted",
    "VisitorAnswersWithdrawn",
    "Withdrawal",
    "WithdrawalReason",
    "child_traceparent",
    "event_headers",
    "event_key",
    "event_topic",
    "event_value",
    "headers_as_text",
    "is_valid_traceparent",
    "new_traceparent",
    "parse_event",
    "read_event_headers",
    "trace_id_of",
    "validate_traceparent",
]
