"""deploy/k8s: one hardened manifest per service, and a matcher that scales on its consumer lag."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cx_contracts.topics import EVENT_TOPICS, VISITOR_ANSWERS, ConsumerGroups

pytestmark = pytest.mark.unit

K8S = Path(__file__).resolve().parents[2] / "deploy/k8s"
SERVICES = ("catalogue", "applications", "matcher", "notifier", "exchanges", "web")
# The secrets each service reads: the web pages hold no store and no internal token, but sign their sessions.
SECRET_SETTINGS = {service: ("INTERNAL_TOKEN", "MONGO_URL") for service in SERVICES} | {"web": ("SESSION_SECRET",)}
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


MANIFESTS = {path.name: documents(path) for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"}
ALL_DOCUMENTS = [doc for docs in MANIFESTS.values() for doc in docs]
DEPLOYMENTS = {doc["metadata"]["name"]: doc for doc in ALL_DOCUMENTS if doc["kind"] == "Deployment"}
POD_SPECS = {
    f"{doc['kind']}/{doc['metadata']['name']}": doc["spec"]["template"]["spec"]
    for doc in ALL_DOCUMENTS
    if doc["kind"] in ("Deployment", "Job")
}


def settings_class(service: str) -> type:
    return importlib.import_module(f"cx_{service}.settings").Settings


def container(service: str) -> dict[str, Any]:
    (only,) = DEPLOYMENTS[service]["spec"]["template"]["spec"]["containers"]
    return only


def deployment_settings() -> list[tuple[str, str]]:
    pairs = []
    for service in SERVICES:
        prefix = settings_class(service).model_config["env_prefix"]
        pairs += [
            (service, e["name"].removeprefix(prefix)) for e in container(service)["env"] if e["name"].startswith(prefix)
        ]
    return pairs


def test_every_service_has_its_own_manifest_with_a_deployment_and_a_service() -> None:
    for service in SERVICES:
        kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in MANIFESTS[f"{service}.yaml"]}
        assert kinds == {("Deployment", service), ("Service", service)}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_reached_on_the_port_its_settings_listen_on(service: str) -> None:
    port = settings_class(service).model_fields["http_port"].default
    assert container(service)["ports"] == [{"name": "http", "containerPort": port}]
    (svc,) = [d for d in MANIFESTS[f"{service}.yaml"] if d["kind"] == "Service"]
    assert svc["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
    assert svc["spec"]["selector"] == DEPLOYMENTS[service]["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_deployment_is_restarted_when_not_alive_and_gets_traffic_only_when_ready(service: str) -> None:
    spec = container(service)
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["startupProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("workload", sorted(POD_SPECS))
def test_every_workload_has_cpu_and_memory_requests_and_limits(workload: str) -> None:
    for spec in POD_SPECS[workload]["containers"]:
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(spec["resources"][kind]), f"{workload} lacks {kind}"


@pytest.mark.parametrize("workload", sorted(POD_SPECS))
def test_every_workload_runs_as_non_root_read_only_without_capabilities(workload: str) -> None:
    pod = POD_SPECS[workload]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for spec in pod["containers"]:
        hardening = spec["securityContext"]
        assert hardening["allowPrivilegeEscalation"] is False
        assert hardening["readOnlyRootFilesystem"] is True
        assert hardening["capabilities"]["drop"] == ["ALL"]
        assert not hardening.get("privileged", False)


@pytest.mark.parametrize("service", SERVICES)
def test_secrets_come_from_a_secret_and_never_sit_in_the_manifest(service: str) -> None:
    env = {e["name"]: e for e in container(service)["env"]}
    prefix = settings_class(service).model_config["env_prefix"]
    for setting in SECRET_SETTINGS[service]:
        assert "secretKeyRef" in env[prefix + setting].get("valueFrom", {}), f"{prefix}{setting} is not from a Secret"


@pytest.mark.parametrize(("service", "setting"), deployment_settings())
def test_every_setting_a_deployment_passes_names_a_real_field_of_the_service_settings(
    service: str, setting: str, expect_settings_field: Callable[[str, str], None]
) -> None:
    expect_settings_field(service, setting)
    assert setting.lower() in settings_class(service).model_fields


def test_the_matcher_scales_on_the_lag_of_its_visitor_answers_consumer_group() -> None:
    (scaler,) = [d for d in ALL_DOCUMENTS if d["kind"] == "ScaledObject"]
    assert scaler["spec"]["scaleTargetRef"]["name"] == "matcher"
    (trigger,) = scaler["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == ConsumerGroups.MATCHER_VISITORS
    assert trigger["metadata"]["topic"] == VISITOR_ANSWERS
    env_names = {e["name"] for e in container("matcher")["env"]}
    assert trigger["metadata"]["bootstrapServersFromEnv"] in env_names


def test_the_matcher_never_scales_beyond_the_partitions_that_split_its_work() -> None:
    (scaler,) = [d for d in ALL_DOCUMENTS if d["kind"] == "ScaledObject"]
    (topic,) = [t for t in EVENT_TOPICS if t.name == VISITOR_ANSWERS]
    assert 1 <= scaler["spec"]["minReplicaCount"] <= scaler["spec"]["maxReplicaCount"] <= topic.partitions
    assert "replicas" not in DEPLOYMENTS["matcher"]["spec"], "the autoscaler owns the matcher's replica count"


def test_the_kustomization_applies_every_manifest_in_the_folder_and_nothing_missing() -> None:
    assert sorted(KUSTOMIZATION["resources"]) == sorted(MANIFESTS)


def test_the_kustomization_pins_the_image_of_every_workload() -> None:
    pinned = {image["name"] for image in KUSTOMIZATION["images"]}
    used = {c["image"].rsplit(":", 1)[0] for pod in POD_SPECS.values() for c in pod["containers"]}
    assert used <= pinned


@pytest.mark.parametrize("service", SERVICES)
def test_every_cx_variable_a_deployment_passes_is_one_of_its_services_settings(service: str) -> None:
    prefix = settings_class(service).model_config["env_prefix"]
    stray = [
        e["name"] for e in container(service)["env"] if e["name"].startswith("CX_") and not e["name"].startswith(prefix)
    ]
    assert stray == [], f"{service} is given variables no setting of it reads: {stray}"


@pytest.mark.parametrize("service", ("catalogue", "applications", "exchanges"))
def test_the_services_that_accept_tokens_are_told_the_production_issuer_and_audience(service: str) -> None:
    env = {e["name"]: e for e in container(service)["env"]}
    prefix = settings_class(service).model_config["env_prefix"]
    (config,) = [doc for doc in MANIFESTS["platform-config.yaml"] if doc["kind"] == "ConfigMap"]
    for setting, key in (("OIDC_ISSUER", "oidc-issuer"), ("OIDC_AUDIENCE", "oidc-audience")):
        assert env[prefix + setting]["valueFrom"]["configMapKeyRef"] == {"name": "cx-platform", "key": key}
    issuer = config["data"]["oidc-issuer"]
    assert issuer.startswith("https://") and "127.0.0.1" not in issuer, "never the development issuer"


def test_the_exchanges_service_reads_the_records_of_the_services_that_own_them_by_their_service_names() -> None:
    env = {e["name"]: e for e in container("exchanges")["env"]}
    assert env["CX_EXCHANGES_CATALOGUE_URL"]["value"] == "http://catalogue:8101"
    assert env["CX_EXCHANGES_APPLICATIONS_URL"]["value"] == "http://applications:8102"
    assert "CX_EXCHANGES_CLOCK_FILE" not in env, "production takes the real date"


def test_the_web_pages_reach_the_apis_by_their_service_names_and_every_config_key_exists() -> None:
    env = {e["name"]: e for e in container("web")["env"]}
    assert env["CX_WEB_CATALOGUE_URL"]["value"] == "http://catalogue:8101"
    assert env["CX_WEB_APPLICATIONS_URL"]["value"] == "http://applications:8102"
    assert env["CX_WEB_EXCHANGES_URL"]["value"] == "http://exchanges:8106"
    (config,) = [d for d in ALL_DOCUMENTS if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "cx-platform"]
    for variable in env.values():
        key = variable.get("valueFrom", {}).get("configMapKeyRef", {}).get("key")
        assert key is None or key in config["data"], f"{variable['name']} names the missing key {key}"


def test_production_topics_are_replicated_three_times_and_need_two_replicas_for_a_write() -> None:
    (job,) = documents(K8S / "topics-job.yaml")
    (topics,) = job["spec"]["template"]["spec"]["containers"]
    env = {variable["name"]: variable.get("value") for variable in topics["env"]}
    assert env["CX_TOPICS_REPLICATION_FACTOR"] == "3"
    assert env["CX_TOPICS_MIN_INSYNC_REPLICAS"] == "2"
    script = "\n".join(topics["command"])
    assert 'min_insync_replicas=int(os.environ["CX_TOPICS_MIN_INSYNC_REPLICAS"])' in script
