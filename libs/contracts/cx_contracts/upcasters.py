"""Upcasters: small functions that lift an event payload from one schema_version to the next.

Compacted topics keep a host's or an application's last record for ever, so a consumer built for a later
schema still reads records written at an earlier one: `parse_event` lifts each stored payload, one version
at a time, to the schema_version of the model it validates into.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from cx_contracts.errors import ContractError

Upcaster: TypeAlias = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    """A registry of upcasters, one per event type and version step."""

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
