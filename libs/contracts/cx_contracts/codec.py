"""Events as Kafka records: what a producer writes and how a consumer reads a record back into its event.

Producing: `event_topic(e)`, `event_key(e)`, `event_value(e)` (None, a tombstone, for a withdrawal) and
`event_headers(e, traceparent)`. Consuming: `parse_event(topic, value, headers, key=...)`, which reads the
contract headers with `read_event_headers` and lifts an older payload with the upcasters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeAlias, TypeVar
from uuid import UUID, uuid5

from pydantic import ValidationError

from cx_contracts.errors import ContractError
from cx_contracts.events import TOPIC_EVENTS, AnyEvent, Envelope, Tombstone, TopicEvents, ValueEvent, Withdrawal
from cx_contracts.topics import source_topic
from cx_contracts.traceparent import is_valid_traceparent, new_traceparent, validate_traceparent
from cx_contracts.upcasters import UPCASTERS, Upcasters

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

# Namespace for ids of tombstones that arrive without headers, so a redelivery gets the same id.
_TOMBSTONE_NAMESPACE = UUID("6f0d2a52-3f7b-4c59-9b8e-0c8f5f1d7a11")

# A deployment may prefix every topic with a namespace such as "staging." (the service kit's topic_namespace).
_TOPIC_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9-]{0,40}\.")

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------------------
# Producing
# ---------------------------------------------------------------------------------------------------------


def event_topic(event: Envelope) -> str:
    """The topic an event is published on."""
    return event.TOPIC


def event_key(event: Envelope) -> bytes:
    """The record key: the aggregate's id, UTF-8."""
    return event.key.encode()


def event_value(event: Envelope) -> bytes | None:
    """The record value: the event as JSON, or None (a tombstone) for a withdrawal."""
    if isinstance(event, Withdrawal):
        return None
    return event.model_dump_json().encode()


def event_headers(event: Envelope, traceparent: str | None = None) -> list[tuple[str, bytes]]:
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

HeaderInput: TypeAlias = Mapping[str, str | bytes | None] | Iterable[tuple[str, str | bytes | None]] | None


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

    def parsed(name: str, convert: Callable[[str], T]) -> T | None:
        if name not in raw:
            return None
        try:
            return convert(raw[name])
        except ValueError:
            raise ContractError(f"header {name!r} has a malformed value {raw[name]!r}") from None

    revision = parsed(HEADER_REVISION, int)
    if revision is not None and revision < 1:
        raise ContractError(f"header {HEADER_REVISION!r} must be 1 or more, got {revision}")
    traceparent = raw.get(HEADER_TRACEPARENT)
    return EventHeaders(
        event_id=parsed(HEADER_EVENT_ID, UUID),
        event_type=raw.get(HEADER_EVENT_TYPE),
        schema_version=parsed(HEADER_SCHEMA_VERSION, int),
        revision=revision,
        occurred_at=parsed(HEADER_OCCURRED_AT, datetime.fromisoformat),
        reason=raw.get(HEADER_REASON),
        traceparent=traceparent if is_valid_traceparent(traceparent) else None,
        content_type=raw.get(HEADER_CONTENT_TYPE),
    )


class _Carried(NamedTuple):
    """What a record read from `where` may be: its events (with a value) and its tombstone descriptor."""

    where: str
    events: tuple[type[ValueEvent], ...]
    withdrawal: type[Tombstone] | None

    @property
    def event_types(self) -> list[str]:
        """The event types such a record may have, those with a value first."""
        return [c.EVENT_TYPE for c in (*self.events, self.withdrawal) if c is not None]

    def event_class(self, event_type: str | None) -> type[ValueEvent] | None:
        """The event a value of `event_type` is (the topic's first event when the record does not say)."""
        if event_type is None:
            return self.events[0] if self.events else None
        return next((c for c in self.events if c.EVENT_TYPE == event_type), None)


def _contract_topic(name: str, topics: Mapping[str, TopicEvents]) -> str | None:
    """The contract topic a (possibly namespaced, possibly dead-letter) topic name stands for."""
    name = source_topic(name)
    for topic in topics:
        if name == topic or (name.endswith(topic) and _TOPIC_NAMESPACE.fullmatch(name[: -len(topic)])):
            return topic
    return None


def _carried(topic_or_type: str, topics: Mapping[str, TopicEvents]) -> _Carried:
    topic = _contract_topic(topic_or_type, topics)
    if topic is not None:
        carried = topics[topic]
        return _Carried(topic, carried.values, carried.withdrawal)
    for carried in topics.values():
        for event in carried.values:
            if event.EVENT_TYPE == topic_or_type:
                return _Carried(topic_or_type, (event,), None)
        if carried.withdrawal is not None and carried.withdrawal.EVENT_TYPE == topic_or_type:
            return _Carried(topic_or_type, (), carried.withdrawal)
    event_types = [c.EVENT_TYPE for carried in topics.values() for c in carried.classes]
    known = ", ".join(sorted(topics) + sorted(event_types))
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
    topics: Mapping[str, TopicEvents] = TOPIC_EVENTS,
) -> AnyEvent:
    """Read one record into its event model, or a Withdrawn descriptor for a tombstone; raise ContractError if bad.

    `topic_or_type` is the topic the record came from (namespaced or `.dlq` names work too) or an event type.
    `key` is the record key: required for a tombstone, checked against the payload otherwise. `upcasters`
    lift an older payload; `topics` says which models each topic carries (both default to the platform's).
    """
    carried = _carried(topic_or_type, topics)
    meta = read_event_headers(headers)
    key_text = _key_text(key)
    if value is None:
        return _parse_tombstone(carried, meta, key_text)
    return _parse_value(carried, value, meta, key_text, upcasters)


def _parse_value(
    carried: _Carried, value: bytes | str, meta: EventHeaders, key_text: str | None, upcasters: Upcasters
) -> ValueEvent:
    where = carried.where
    if not carried.events:
        raise ContractError(f"{where}: a {carried.event_types[0]} record carries no value (a tombstone)")
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
    event_class = carried.event_class(declared.pop() if declared else None)
    if event_class is None:
        allowed = ", ".join(carried.event_types)
        found = payload.get("event_type") or meta.event_type
        raise ContractError(f"{where}: event type {found!r} does not belong here (expected {allowed})")
    event_type = event_class.EVENT_TYPE

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
    return event


def _parse_tombstone(carried: _Carried, meta: EventHeaders, key_text: str | None) -> Tombstone:
    where, _, tombstone_class = carried
    if tombstone_class is None:
        raise ContractError(f"{where}: a {carried.event_types[0]} record cannot be a tombstone (null value)")
    if meta.event_type is not None and meta.event_type != tombstone_class.EVENT_TYPE:
        raise ContractError(
            f"{where}: a tombstone's event_type header must be {tombstone_class.EVENT_TYPE!r}, got {meta.event_type!r}"
        )
    if key_text is None:
        raise ContractError(f"{where}: a tombstone needs its record key to say which {tombstone_class.KEY_FIELD} went")
    fields: dict[str, Any] = {
        tombstone_class.KEY_FIELD: key_text,
        "event_id": meta.event_id or uuid5(_TOMBSTONE_NAMESPACE, f"{where}/{key_text}/{meta.revision}"),
        "schema_version": meta.schema_version or 1,
        "occurred_at": meta.occurred_at,
        "revision": meta.revision,
    }
    if meta.reason is not None:
        fields["reason"] = meta.reason
    try:
        return tombstone_class.model_validate(fields)
    except ValidationError as error:
        raise ContractError.from_validation(f"{where}: invalid {tombstone_class.__name__}", error) from None
