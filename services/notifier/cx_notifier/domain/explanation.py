"""Why a host was proposed, in the order a person should read it: the biggest contribution first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One criterion's part of the fit: its name and its share of the positive contributions, in percent."""

    criterion: str
    share: int


def reasons(explanation: Mapping[str, float]) -> tuple[Reason, ...]:
    """The criteria that helped, highest contribution first; shares in whole percent of the helping total.

    Criteria that added nothing (or counted against the host) are not a reason to contact it, so they are
    left out. Ties keep the matcher's own order, so a mail reads the same on every replay.
    """
    helping = [(name, value) for name, value in explanation.items() if value > 0]
    total = sum(value for _, value in helping)
    ordered = sorted(enumerate(helping), key=lambda item: (-item[1][1], item[0]))
    return tuple(Reason(criterion=name, share=max(1, round(100 * value / total))) for _, (name, value) in ordered)
