"""The topics the platform creates: each spec's partitions and config, and the replication a cluster asks for."""

from __future__ import annotations

import pytest

from cx_contracts.topics import ALL_TOPICS
from cx_kit.kafka import new_topics

pytestmark = pytest.mark.unit


def test_a_production_cluster_gets_min_insync_replicas_on_every_topic_beside_its_own_config() -> None:
    created = new_topics(ALL_TOPICS, replication_factor=3, min_insync_replicas=2)
    assert [t.name for t in created] == [s.name for s in ALL_TOPICS]
    for topic, spec in zip(created, ALL_TOPICS, strict=True):
        assert topic.replication_factor == 3
        assert topic.num_partitions == spec.partitions
        assert dict(topic.topic_configs) == {**spec.config, "min.insync.replicas": "2"}


def test_a_single_node_keeps_the_brokers_default() -> None:
    for topic, spec in zip(new_topics(ALL_TOPICS), ALL_TOPICS, strict=True):
        assert topic.replication_factor == 1
        assert "min.insync.replicas" not in topic.topic_configs
        assert dict(topic.topic_configs) == spec.config


@pytest.mark.parametrize(("replicas", "insync"), [(1, 2), (3, 0), (3, 4)])
def test_min_insync_replicas_outside_one_to_the_replication_is_refused(replicas: int, insync: int) -> None:
    with pytest.raises(ValueError, match="min_insync_replicas"):
        new_topics(ALL_TOPICS, replication_factor=replicas, min_insync_replicas=insync)
