"""docker-compose.yml: every part is there, checked for health, started in order, and configured with
settings the services really read."""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
STACK = COMPOSE["services"]

OURS = ("catalogue", "applications", "matcher", "notifier", "exchanges")
# The web pages: built here like the four, but they hold no store and no broker (they call the APIs).
PAGES = ("web",)
BUILT = OURS + PAGES
ROUTED = ("catalogue", "applications", "matcher", "exchanges", "web")
INFRASTRUCTURE = ("kafka", "mongo", "mailpit", "keycloak", "gateway")
SIGNING_IN = ("catalogue", "applications", "exchanges")  # the services that accept people's tokens (SignInSettings)
ONE_SHOT = ("topics",)
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
GATEWAY_TEMPLATE = ROOT / "services/gateway/nginx/templates/default.conf.template"
REALM = json.loads((ROOT / "deploy/keycloak/clusterxchange-realm.json").read_text())


def settings_class(service: str) -> type:
    return importlib.import_module(f"cx_{service}.settings").Settings


def prefix(service: str) -> str:
    return settings_class(service).model_config["env_prefix"]


def environment(service: str) -> dict[str, str]:
    """A compose service's environment as a mapping, whichever of the two compose forms it uses."""
    env = STACK[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: str) -> dict[str, str]:
    """A service's dependencies and their conditions (the short list form means service_started)."""
    deps = STACK[service].get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Resolve compose's `${VAR}`, `${VAR:-default}` and `${VAR:?message}` as `docker compose` would."""

    def resolve(match: re.Match[str]) -> str:
        if variables.get(match["name"]):
            return variables[match["name"]]
        if match["op"] in (":?", "?"):
            raise LookupError(f"{match['name']}: {match['arg']}")
        return match["arg"] or ""

    return _INTERPOLATION.sub(resolve, value)


def compose_settings(service: str) -> list[tuple[str, str]]:
    """(service, SETTING) for every variable with the service's prefix that compose passes it."""
    service_prefix = prefix(service)
    return [
        (service, key.removeprefix(service_prefix)) for key in environment(service) if key.startswith(service_prefix)
    ]


def test_the_stack_has_the_infrastructure_our_five_services_the_web_pages_and_the_topic_setup() -> None:
    assert set(STACK) == set(BUILT) | set(INFRASTRUCTURE) | set(ONE_SHOT)


@pytest.mark.parametrize("service", sorted(STACK))
def test_every_service_runs_an_image_or_builds_one_from_a_dockerfile_in_the_repo(service: str) -> None:
    spec = STACK[service]
    assert spec.get("image") or spec.get("build"), f"{service} has neither image nor build"
    build = spec.get("build")
    if build is not None:
        build = {"context": build} if isinstance(build, str) else build
        context = (ROOT / build.get("context", ".")).resolve()
        assert context == ROOT, f"{service} must build from the workspace root (uv.lock is there)"
        assert (context / build.get("dockerfile", "Dockerfile")).is_file()


@pytest.mark.parametrize("service", BUILT)
def test_each_of_our_services_builds_from_its_own_dockerfile(service: str) -> None:
    assert STACK[service]["build"]["dockerfile"] == f"services/{service}/Dockerfile"
    assert (ROOT / "services" / service / "Dockerfile").is_file()


@pytest.mark.parametrize("service", [s for s in sorted(STACK) if s not in ONE_SHOT])
def test_every_long_running_service_has_a_health_check_and_restarts_after_a_crash(service: str) -> None:
    check = STACK[service].get("healthcheck") or {}
    assert check.get("test") and not check.get("disable"), f"{service} has no health check"
    assert STACK[service].get("restart") in ("always", "unless-stopped", "on-failure")


def test_the_one_shot_topic_setup_is_not_restarted_once_it_has_finished() -> None:
    assert STACK["topics"].get("restart", "no") == "no"


@pytest.mark.parametrize("service", BUILT)
def test_each_service_health_check_asks_healthz_on_the_port_it_listens_on(service: str) -> None:
    env = environment(service)
    port = env[f"{prefix(service)}HTTP_PORT"]
    assert env[f"{prefix(service)}HTTP_HOST"] == "0.0.0.0", "a container must listen beyond its loopback"
    probe = " ".join(STACK[service]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{port}/healthz" in probe


@pytest.mark.parametrize("service", OURS)
def test_each_service_is_told_where_kafka_and_the_mongodb_replica_set_are(service: str) -> None:
    env = environment(service)
    bootstrap = env[f"{prefix(service)}KAFKA_BOOTSTRAP_SERVERS"]
    assert {server.split(":")[0] for server in bootstrap.split(",")} == {"kafka"}
    mongo = urlsplit(env[f"{prefix(service)}MONGO_URL"])
    assert mongo.scheme == "mongodb" and mongo.hostname == "mongo"
    assert "replicaSet=rs0" in mongo.query, "transactions and the outbox need the replica set"


@pytest.mark.parametrize("service", OURS)
def test_each_service_keeps_its_data_in_its_own_database(service: str) -> None:
    assert environment(service)[f"{prefix(service)}MONGO_DATABASE"] == service


def test_the_notifier_is_told_where_to_send_mail_and_where_contacts_live() -> None:
    env = environment("notifier")
    assert env["CX_NOTIFIER_SMTP_HOST"] == "mailpit"
    assert int(env["CX_NOTIFIER_SMTP_PORT"]) == 1025
    assert urlsplit(env["CX_NOTIFIER_CATALOGUE_URL"]).hostname == "catalogue"
    assert urlsplit(env["CX_NOTIFIER_APPLICATIONS_URL"]).hostname == "applications"


@pytest.mark.parametrize(("service", "setting"), [pair for service in BUILT for pair in compose_settings(service)])
def test_every_setting_compose_passes_names_a_real_field_of_the_service_settings(
    service: str, setting: str, expect_settings_field: Callable[[str, str], None]
) -> None:
    expect_settings_field(service, setting)
    assert setting.lower() in settings_class(service).model_fields, f"{prefix(service)}{setting} is read by nobody"


@pytest.mark.parametrize("service", OURS)
def test_each_service_runs_in_production_and_needs_a_real_internal_token(service: str) -> None:
    env = environment(service)
    assert env[f"{prefix(service)}ENVIRONMENT"] == "production"
    with pytest.raises(LookupError, match="CX_INTERNAL_TOKEN"):
        interpolate(env[f"{prefix(service)}INTERNAL_TOKEN"], {})


def test_the_web_pages_run_in_production_and_need_a_real_session_secret() -> None:
    env = environment("web")
    assert env["CX_WEB_ENVIRONMENT"] == "production"
    with pytest.raises(LookupError, match="CX_WEB_SESSION_SECRET"):
        interpolate(env["CX_WEB_SESSION_SECRET"], {})
    assert "CX_WEB_INTERNAL_TOKEN" not in env, "the pages never call internal routes"


def test_the_web_pages_call_the_services_apis_and_start_after_them() -> None:
    env = environment("web")
    assert urlsplit(env["CX_WEB_CATALOGUE_URL"]).hostname == "catalogue"
    assert urlsplit(env["CX_WEB_APPLICATIONS_URL"]).hostname == "applications"
    assert urlsplit(env["CX_WEB_EXCHANGES_URL"]).hostname == "exchanges"
    assert depends_on("web") == {s: "service_healthy" for s in ("keycloak", "catalogue", "applications", "exchanges")}
    assert env["CX_WEB_OIDC_ISSUER"] == environment("catalogue")["CX_CATALOGUE_OIDC_ISSUER"], "one issuer for all"


@pytest.mark.parametrize("service", BUILT)
def test_each_service_accepts_the_settings_compose_gives_it(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    variables = {
        "CX_INTERNAL_TOKEN": "a-test-secret-that-is-not-the-placeholder",
        "CX_WEB_SESSION_SECRET": "a-session-secret-that-is-not-the-placeholder",
    }
    for key in [k for k in os.environ if k.startswith(prefix(service))]:
        monkeypatch.delenv(key)
    for key, value in environment(service).items():
        monkeypatch.setenv(key, interpolate(value, variables))
    settings = settings_class(service)()
    assert settings.environment == "production"
    assert settings.http_port == int(environment(service)[f"{prefix(service)}HTTP_PORT"])


@pytest.mark.parametrize("service", sorted(STACK))
def test_every_dependency_is_a_service_of_the_stack_with_a_condition_it_can_meet(service: str) -> None:
    for dependency, condition in depends_on(service).items():
        assert dependency in STACK, f"{service} depends on unknown {dependency}"
        assert condition in CONDITIONS
        if condition == "service_healthy":
            assert (STACK[dependency].get("healthcheck") or {}).get("test"), f"{dependency} is never healthy"
        if condition == "service_completed_successfully":
            assert dependency in ONE_SHOT


@pytest.mark.parametrize("service", OURS)
def test_each_service_starts_after_kafka_mongodb_and_the_topics_are_ready(service: str) -> None:
    deps = depends_on(service)
    assert deps.get("kafka") == "service_healthy"
    assert deps.get("mongo") == "service_healthy"
    assert deps.get("topics") == "service_completed_successfully"


def test_the_exchanges_service_reads_records_and_contacts_from_their_owners_and_starts_after_them() -> None:
    env = environment("exchanges")
    assert urlsplit(env["CX_EXCHANGES_CATALOGUE_URL"]).hostname == "catalogue"
    assert urlsplit(env["CX_EXCHANGES_APPLICATIONS_URL"]).hostname == "applications"
    deps = depends_on("exchanges")
    assert deps.get("catalogue") == deps.get("applications") == "service_healthy"
    assert "CX_EXCHANGES_CLOCK_FILE" not in env, "production takes the real date"


def test_the_notifier_starts_after_the_mail_sink_and_the_services_it_asks_for_contacts() -> None:
    deps = depends_on("notifier")
    assert deps.get("mailpit") == "service_healthy"
    assert deps.get("catalogue") == deps.get("applications") == "service_healthy"


def test_the_topic_setup_creates_every_contract_topic_once_kafka_is_up() -> None:
    spec = STACK["topics"]
    assert depends_on("topics") == {"kafka": "service_healthy"}
    assert spec["build"]["dockerfile"] in {f"services/{s}/Dockerfile" for s in OURS}
    command = spec["command"]
    assert command[:2] == ["python", "-c"]
    code = command[2]
    compile(code, "topics", "exec")
    assert "ALL_TOPICS" in code and "ensure_topics" in code
    assert callable(importlib.import_module("cx_kit.kafka").ensure_topics)
    assert importlib.import_module("cx_contracts.topics").ALL_TOPICS
    bootstrap_variable = re.search(r'os\.environ\["(\w+)"\]', code)[1]
    assert environment("topics")[bootstrap_variable] == "kafka:9092"


def test_kafka_refuses_to_create_topics_nobody_declared() -> None:
    assert environment("kafka")["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_mongodb_runs_as_a_replica_set_that_its_health_check_initiates() -> None:
    spec = STACK["mongo"]
    assert "--replSet" in spec["command"] and "rs0" in spec["command"]
    probe = " ".join(spec["healthcheck"]["test"])
    assert "rs.initiate" in probe and "mongo:27017" in probe


def test_the_gateway_renders_the_one_template_with_every_variable_it_uses() -> None:
    spec = STACK["gateway"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in spec["volumes"]}
    assert (ROOT / mounts["/etc/nginx/templates"] / GATEWAY_TEMPLATE.name).resolve() == GATEWAY_TEMPLATE
    used = set(re.findall(r"\$\{(CX_GATEWAY_\w+)\}", GATEWAY_TEMPLATE.read_text()))
    env = environment("gateway")
    assert used <= set(env), f"not set for the gateway: {sorted(used - set(env))}"
    assert re.match(env["NGINX_ENVSUBST_FILTER"], "CX_GATEWAY_LISTEN")


@pytest.mark.parametrize("service", ROUTED)
def test_the_gateway_sends_to_each_routed_service_on_its_port_once_it_is_healthy(service: str) -> None:
    template = GATEWAY_TEMPLATE.read_text()
    upstream = environment("gateway")[f"CX_GATEWAY_{service.upper()}_UPSTREAM"]
    assert upstream == f"{service}:{environment(service)[prefix(service) + 'HTTP_PORT']}"
    assert f"proxy_pass http://cx_{service};" in template
    assert depends_on("gateway").get(service) == "service_healthy"


def test_the_gateway_routes_nothing_to_the_notifier() -> None:
    assert not any(key.startswith("CX_GATEWAY_NOTIFIER") for key in environment("gateway"))
    assert "notifier" not in depends_on("gateway")


@pytest.mark.parametrize("service", sorted(STACK))
def test_ports_published_on_the_host_listen_on_loopback_unless_told_otherwise(service: str) -> None:
    for published in STACK[service].get("ports", []):
        host_ip = interpolate(str(published), {}).split(":")[0]
        assert host_ip == "127.0.0.1", f"{service} publishes {published} on every interface"


@pytest.mark.parametrize("service", OURS)
def test_every_cx_variable_a_service_gets_is_one_of_its_own_settings(service: str) -> None:
    stray = [key for key in environment(service) if key.startswith("CX_") and not key.startswith(prefix(service))]
    assert stray == [], f"{service} is given variables no setting of it reads: {stray}"


def test_keycloak_imports_the_realm_file_and_publishes_one_fixed_address() -> None:
    spec = STACK["keycloak"]
    assert spec["image"].startswith("quay.io/keycloak/keycloak:")
    assert "--import-realm" in spec["command"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in spec["volumes"]}
    assert (ROOT / mounts["/opt/keycloak/data/import"] / "clusterxchange-realm.json").is_file()
    env = environment("keycloak")
    assert urlsplit(env["KC_HOSTNAME"]).port == int(spec["ports"][0].split(":")[1])
    with pytest.raises(LookupError, match="CX_KEYCLOAK_ADMIN_PASSWORD"):
        interpolate(env["KC_BOOTSTRAP_ADMIN_PASSWORD"], {})


def test_the_realm_signs_the_web_pages_in_with_pkce_and_names_the_audience_and_the_organisation_claims() -> None:
    assert REALM["realm"] == "clusterxchange" and REALM["enabled"] is True
    (client,) = REALM["clients"]
    assert client["publicClient"] is True and client["standardFlowEnabled"] is True
    assert client["directAccessGrantsEnabled"] is False and client["implicitFlowEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(urlsplit(uri).hostname in ("127.0.0.1", "localhost") for uri in client["redirectUris"])
    mappers = {mapper["name"]: mapper for mapper in client["protocolMappers"]}
    audience = mappers["audience clusterxchange"]["config"]
    assert audience["included.custom.audience"] == "clusterxchange" and audience["access.token.claim"] == "true"
    for claim in ("organisation", "organisation_name", "role", "partnership"):
        config = mappers[claim]["config"]
        assert mappers[claim]["protocolMapper"] == "oidc-usermodel-attribute-mapper"
        assert config["user.attribute"] == config["claim.name"] == claim and config["access.token.claim"] == "true"


def test_only_the_realms_administrators_set_who_a_person_is_for_the_platform() -> None:
    (provider,) = REALM["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    attributes = {attribute["name"]: attribute for attribute in profile["attributes"]}
    for name in ("organisation", "organisation_name", "role", "partnership"):
        assert attributes[name]["permissions"]["edit"] == ["admin"], f"a person could change its own {name}"
    assert attributes["role"]["validations"]["options"]["options"] == ["member", "manager"]


@pytest.mark.parametrize("service", SIGNING_IN)
def test_each_service_accepts_the_tokens_of_the_realm_for_the_platforms_audience(service: str) -> None:
    env = environment(service)
    keycloak = environment("keycloak")
    assert env[f"{prefix(service)}OIDC_ISSUER"] == f"{keycloak['KC_HOSTNAME']}/realms/{REALM['realm']}"
    keys = urlsplit(env[f"{prefix(service)}OIDC_JWKS_URL"])
    assert keys.hostname == "keycloak" and keys.path == f"/realms/{REALM['realm']}/protocol/openid-connect/certs"
    (client,) = REALM["clients"]
    audiences = [m["config"]["included.custom.audience"] for m in client["protocolMappers"] if "audience" in m["name"]]
    assert audiences == [env[f"{prefix(service)}OIDC_AUDIENCE"]]
