"""The grant rule as DESIGN.md states it: the host country's lump sum for a physical exchange, halved for a stay
under 5 working days or cities under 200 km apart (or a city that cannot be located), none for a virtual one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cx_contracts.exchange import GrantReason
from cx_contracts.vocabulary import ELIGIBLE_COUNTRIES, ExchangeFormat

from cx_exchanges.domain.grant import grant
from cx_exchanges.settings import DEFAULT_GRANT_CAPS_EUR, Settings

pytestmark = pytest.mark.unit

CAPS = {country: euros * 100 for country, euros in DEFAULT_GRANT_CAPS_EUR.items()}
PHYSICAL, VIRTUAL = ExchangeFormat.PHYSICAL, ExchangeFormat.VIRTUAL
SHORT_STAY, SHORT_DISTANCE = GrantReason.SHORT_STAY, GrantReason.SHORT_DISTANCE
UNKNOWN = GrantReason.DISTANCE_UNKNOWN


@pytest.mark.parametrize(
    ("format", "days", "distance_km", "country", "amount_eur", "reasons"),
    [
        # physical, 5 working days and more, far apart: the host country's whole lump sum
        (PHYSICAL, 5, 1718.4, "DE", 2700, []),
        (PHYSICAL, 10, 1718.4, "SE", 3000, []),
        (PHYSICAL, 22, 900.0, "BG", 2400, []),
        # under 5 working days: halved
        (PHYSICAL, 4, 1718.4, "DE", 1350, [SHORT_STAY]),
        (PHYSICAL, 3, 1718.4, "SE", 1500, [SHORT_STAY]),
        # under 200 km apart: halved; 200 km is not under 200 km
        (PHYSICAL, 5, 120.5, "SI", 1200, [SHORT_DISTANCE]),
        (PHYSICAL, 5, 199.9, "AT", 1350, [SHORT_DISTANCE]),
        (PHYSICAL, 5, 200.0, "AT", 2700, []),
        # both: halved once, not quartered
        (PHYSICAL, 3, 80.0, "IE", 1500, [SHORT_STAY, SHORT_DISTANCE]),
        (PHYSICAL, 4, 10.0, "LT", 1200, [SHORT_STAY, SHORT_DISTANCE]),
        # a city that cannot be located: halved as for a short distance
        (PHYSICAL, 8, None, "NO", 1500, [UNKNOWN]),
        # virtual: nothing, whatever the days and the distance
        (VIRTUAL, 10, 1718.4, "DE", 0, [GrantReason.VIRTUAL]),
        (VIRTUAL, 3, 50.0, "SE", 0, [GrantReason.VIRTUAL]),
        (VIRTUAL, 5, None, "BG", 0, [GrantReason.VIRTUAL]),
    ],
)
def test_the_grant_of_an_exchange_follows_the_rule(
    format: ExchangeFormat,
    days: int,
    distance_km: float | None,
    country: str,
    amount_eur: int,
    reasons: list[GrantReason],
) -> None:
    computed = grant(format=format, working_days=days, host_country=country, distance_km=distance_km, caps_cents=CAPS)
    assert computed.amount_cents == amount_eur * 100
    assert computed.reasons == reasons
    assert computed.cap_cents == DEFAULT_GRANT_CAPS_EUR[country] * 100
    assert computed.halved == (format is PHYSICAL and bool(reasons))
    assert computed.host_country == country and computed.working_days == days


@given(
    days=st.integers(min_value=0, max_value=40),
    distance=st.one_of(st.none(), st.floats(min_value=0, max_value=5000, allow_nan=False)),
    country=st.sampled_from(sorted(ELIGIBLE_COUNTRIES)),
    cap=st.integers(min_value=0, max_value=10_000_000),
)
def test_a_virtual_exchange_never_gets_an_amount(days: int, distance: float | None, country: str, cap: int) -> None:
    computed = grant(
        format=VIRTUAL, working_days=days, host_country=country, distance_km=distance, caps_cents={country: cap}
    )
    assert computed.amount_cents == 0 and not computed.halved


@given(
    days=st.integers(min_value=0, max_value=40),
    distance=st.one_of(st.none(), st.floats(min_value=0, max_value=5000, allow_nan=False)),
    cap=st.integers(min_value=0, max_value=10_000_000),
)
def test_a_physical_exchange_gets_the_lump_sum_or_half_of_it_and_never_more(
    days: int, distance: float | None, cap: int
) -> None:
    computed = grant(
        format=PHYSICAL, working_days=days, host_country="FR", distance_km=distance, caps_cents={"FR": cap}
    )
    assert computed.amount_cents == (cap // 2 if computed.halved else cap) <= cap


def test_every_eligible_country_has_a_lump_sum_and_a_table_missing_one_is_refused() -> None:
    assert set(DEFAULT_GRANT_CAPS_EUR) == ELIGIBLE_COUNTRIES
    with pytest.raises(ValueError, match="no lump sum for DE"):
        Settings(environment="test", grant_caps_eur={k: v for k, v in DEFAULT_GRANT_CAPS_EUR.items() if k != "DE"})
    configured = Settings(
        environment="test",
        grant_caps_eur='{"DE": 2000, ' + ", ".join(f'"{c}": 1' for c in ELIGIBLE_COUNTRIES - {"DE"}) + "}",
    )
    assert configured.grant_caps_cents["DE"] == 200_000
