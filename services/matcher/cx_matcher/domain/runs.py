"""Matching runs: what triggered one, its id, and the MatchFound event it becomes.

Run ids are derived, not random: a run repeated after a crash or a redelivery (the same visitor event, the
same host revision entering the same application revision's list, or the same bookings of a host moving it in
or out of that list) gets the same `match_run_id`, and
the notifier, which sends at most one mail per (match_run_id, recipient), sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID, uuid5

from cx_contracts.events import HostMatch, MatchFound, MatchTrigger

from cx_matcher.domain.ranking import RankedHost

_RUN_NAMESPACE = UUID("0b4c8f55-6a43-4f0e-9d55-3c1d7d8d2a61")


def application_trigger(revision: int) -> MatchTrigger:
    """A first submission is a new application; any later revision a revised one."""
    return "new-application" if revision == 1 else "revised-application"


def application_run_id(application_id: UUID, revision: int, event_id: UUID) -> UUID:
    """The run answering one visitor event: the same event always gives the same run id."""
    return uuid5(_RUN_NAMESPACE, f"application/{application_id}/{revision}/{event_id}")


def host_run_id(application_id: UUID, revision: int, hosts: Iterable[tuple[UUID, int]]) -> UUID:
    """The run that host revisions (host_id, revision) entering one application revision's list trigger."""
    entering = ",".join(f"{host_id}:{host_revision}" for host_id, host_revision in sorted(hosts, key=str))
    return uuid5(_RUN_NAMESPACE, f"host/{application_id}/{revision}/{entering}")


def room_run_id(application_id: UUID, revision: int, hosts: Iterable[tuple[UUID, str]]) -> UUID:
    """The run that hosts' changed room (host_id, its bookings in words) triggers in one application revision's
    list: every replica reading the same exchange steps derives the same id."""
    moved = ",".join(f"{host_id}:{bookings}" for host_id, bookings in sorted(hosts, key=str))
    return uuid5(_RUN_NAMESPACE, f"room/{application_id}/{revision}/{moved}")


def model_version(model_name: str, weights_fingerprint: str, top_n: int) -> str:
    """What produced the scores: the embedding model and the scoring configuration."""
    return f"{model_name}+scoring-{weights_fingerprint}+top{top_n}"


def match_found(
    *,
    run_id: UUID,
    application_id: UUID,
    revision: int,
    trigger: MatchTrigger,
    model: str,
    ranked: Sequence[RankedHost],
) -> MatchFound:
    """The MatchFound event of one run."""
    return MatchFound(
        # The event id follows from the run id, so a re-published run is the same event to every inbox.
        event_id=uuid5(_RUN_NAMESPACE, f"event/{run_id}"),
        match_run_id=run_id,
        application_id=application_id,
        revision=revision,
        trigger=trigger,
        model_version=model,
        matches=[
            HostMatch(host_id=entry.host_id, rank=entry.rank, score=entry.score, explanation=entry.explanation)
            for entry in ranked
        ],
    )
