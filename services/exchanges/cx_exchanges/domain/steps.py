"""What each party must do next on an exchange, and how a set of exchanges stands (a partnership's totals)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from cx_contracts.exchange import ExchangeState, ExchangeTotals, NextStep

from cx_exchanges.domain.exchange import Acting, Exchange


def next_steps(exchange: Exchange, acting: Acting, today: date) -> list[NextStep]:
    """Who must do what now, each step marked when it is the caller's."""
    start, end = exchange.dates.start.isoformat(), exchange.dates.end.isoformat()
    steps: list[NextStep] = []
    if exchange.state is ExchangeState.REQUESTED:
        steps = [
            NextStep(
                who="host", action="accept-or-decline", text="Accept the request (with your agenda) or decline it."
            ),
            NextStep(who="visitor", action="wait", text="Wait for the host's answer; you may withdraw the request."),
        ]
    elif exchange.state is ExchangeState.ACCEPTED:
        steps = [
            NextStep(
                who=f"{side}-manager",
                action="confirm",
                text=f"Confirm the Commitment to Quality (goals, agenda, dates) for the {side} organisation.",
            )
            for side in exchange.unconfirmed()
        ]
        steps += [
            NextStep(
                who=side,
                action="agree",
                text="Agree goals and agenda with the other side (you may revise them until both partnerships "
                "confirm).",
            )
            for side in ("visitor", "host")
        ]
    elif exchange.state is ExchangeState.AGREED and today <= exchange.dates.end:
        steps = [
            NextStep(who="host", action="hold", text=f"Host the visitors from {start} to {end}."),
            NextStep(who="visitor", action="hold", text=f"Visit from {start} to {end}; after {end}, file the report."),
        ]
    elif exchange.state is ExchangeState.AGREED:
        steps = [
            NextStep(who="visitor", action="report", text="File the closing report: what you learnt, what follows.")
        ]
    return [step.model_copy(update={"yours": _is_callers(step, acting)}) for step in steps]


def _is_callers(step: NextStep, acting: Acting) -> bool:
    if step.who.endswith("-manager"):
        return step.who.removesuffix("-manager") in acting.overseen
    return step.who in acting.own


def totals(exchanges: Iterable[Exchange]) -> ExchangeTotals:
    """Counts per state and the granted amount (agreed and completed exchanges) of `exchanges`."""
    listed = list(exchanges)
    counted = Counter(exchange.state for exchange in listed)
    granted = sum(
        exchange.grant.amount_cents
        for exchange in listed
        if exchange.grant is not None and exchange.state in (ExchangeState.AGREED, ExchangeState.COMPLETED)
    )
    return ExchangeTotals(
        by_state={state: counted.get(state, 0) for state in ExchangeState},
        total=len(listed),
        granted_cents=granted,
    )
