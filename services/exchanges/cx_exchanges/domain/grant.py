"""The grant rule, as DESIGN.md states it: a physical exchange gets the lump sum of its host country, halved when
the stay is under 5 working days or the two organisations' cities are under 200 km apart; a virtual one none.

The distance is measured by an adapter (the cities' coordinates from GeoNames); here it is a number, or None
when a city could not be located, which halves the sum as a short distance would: the scheme pays the full
sum only for a distance it knows. The pages show the estimate before the agreement, so an organisation whose
city was not found can correct it (or name the nearest town) before the managers confirm.
"""

from __future__ import annotations

from collections.abc import Mapping

from cx_contracts.exchange import Grant, GrantReason
from cx_contracts.vocabulary import HALF_GRANT_BELOW_DAYS, ExchangeFormat

HALF_GRANT_BELOW_KM = 200.0


def grant(
    *,
    format: ExchangeFormat,
    working_days: int,
    host_country: str,
    distance_km: float | None,
    caps_cents: Mapping[str, int],
) -> Grant:
    """The grant of an exchange: the host country's lump sum, halved once if either rule applies; 0 if virtual."""
    cap = caps_cents[host_country]
    if format is ExchangeFormat.VIRTUAL:
        return Grant(
            amount_cents=0,
            cap_cents=cap,
            halved=False,
            reasons=[GrantReason.VIRTUAL],
            distance_km=distance_km,
            host_country=host_country,
            working_days=working_days,
        )
    reasons = []
    if working_days < HALF_GRANT_BELOW_DAYS:
        reasons.append(GrantReason.SHORT_STAY)
    if distance_km is None:
        reasons.append(GrantReason.DISTANCE_UNKNOWN)
    elif distance_km < HALF_GRANT_BELOW_KM:
        reasons.append(GrantReason.SHORT_DISTANCE)
    halved = bool(reasons)
    return Grant(
        amount_cents=cap // 2 if halved else cap,
        cap_cents=cap,
        halved=halved,
        reasons=reasons,
        distance_km=None if distance_km is None else round(distance_km, 1),
        host_country=host_country,
        working_days=working_days,
    )
