"""W3C Trace Context `traceparent` values: make one, continue one, check one (https://www.w3.org/TR/trace-context/)."""

from __future__ import annotations

import re
import secrets

from cx_contracts.errors import ContractError

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_INVALID_TRACE_ID = "0" * 32
_INVALID_PARENT_ID = "0" * 16
SAMPLED = "01"


def is_valid_traceparent(value: object) -> bool:
    """Whether `value` is a traceparent a receiver may continue (version 00, or a later one read as 00)."""
    if not isinstance(value, str):
        return False
    match = _TRACEPARENT.fullmatch(value)
    if match is None:
        return False
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or trace_id == _INVALID_TRACE_ID or parent_id == _INVALID_PARENT_ID:
        return False
    # Version 00 has exactly four fields; a later version may append more after a dash.
    return not (version == "00" and rest)


def validate_traceparent(value: str) -> str:
    """Return `value` if it is a valid traceparent, else raise ContractError."""
    if not is_valid_traceparent(value):
        raise ContractError(
            f"invalid traceparent {value!r}: expected 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>, "
            "lower case, ids not all zero"
        )
    return value


def new_traceparent(*, sampled: bool = True) -> str:
    """A traceparent starting a new trace."""
    return f"00-{_nonzero_hex(16)}-{_nonzero_hex(8)}-{SAMPLED if sampled else '00'}"


def child_traceparent(parent: str | None) -> str:
    """A traceparent continuing `parent`'s trace with a new span id; a new trace if `parent` is absent or invalid."""
    if parent is None or not is_valid_traceparent(parent):
        return new_traceparent()
    _version, trace_id, _parent_id, flags = parent.split("-")[:4]
    return f"00-{trace_id}-{_nonzero_hex(8)}-{flags}"


def trace_id_of(traceparent: str) -> str:
    """The 32-hex trace id of a valid traceparent."""
    return validate_traceparent(traceparent).split("-")[1]


def _nonzero_hex(size: int) -> str:
    while True:
        value = secrets.token_hex(size)
        if value.strip("0"):
            return value
