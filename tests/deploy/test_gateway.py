"""The gateway: one nginx template routes the public API and the pages only, limits writes per client, guards
every response, and runs locally."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "services/gateway/nginx/templates/default.conf.template"
TEMPLATE = TEMPLATE_PATH.read_text()
GATEWAY_SH = ROOT / "deploy/gateway/gateway.sh"
PUBLIC_APIS = ("catalogue", "applications", "exchanges")
UPSTREAMS = ("catalogue", "applications", "matcher", "exchanges", "web")
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy")
# What people and other systems may not reach through the gateway: internal and operational routes.
NOT_ROUTED = (
    "/internal/contacts/hosts/00000000-0000-0000-0000-000000000000",
    "/internal/records/applications/00000000-0000-0000-0000-000000000000",
    "/api/matcher/status",
    "/api/notifier/status",
    "/readyz",
    "/metrics",
    "/metrics/",
    "/api/catalogue-internal",
)


def blocks(text: str, keyword: str) -> list[tuple[str, str]]:
    """(argument, body) of every `keyword argument { body }` block, braces balanced."""
    found = []
    for match in re.finditer(rf"^\s*{keyword}\s+([^{{]*?)\s*\{{", text, re.MULTILINE):
        depth, start = 1, match.end()
        for index in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                found.append((match[1], text[start:index]))
                break
    return found


def locations() -> dict[str, str]:
    return dict(blocks(TEMPLATE, "location"))


@pytest.mark.unit
@pytest.mark.parametrize("service", PUBLIC_APIS)
def test_each_public_api_prefix_is_proxied_to_its_service_with_the_prefix_kept_and_writes_limited(
    service: str,
) -> None:
    routes = locations()
    for path in (f"/api/{service}/", f"= /api/{service}"):
        assert path in routes, f"no location {path}"
        # proxy_pass without a URI part passes the request path on unchanged, /api/<service> included.
        assert f"proxy_pass http://cx_{service};" in routes[path]
        assert "limit_req zone=cx_writes " in routes[path]


@pytest.mark.unit
def test_of_the_matcher_only_the_preview_is_routed_with_a_budget_of_its_own() -> None:
    routes = locations()
    matcher = {path: body for path, body in routes.items() if "cx_matcher" in body}
    assert set(matcher) == {"= /api/matcher/preview", "= /docs/matcher/openapi.json"}
    assert "limit_req zone=cx_preview " in routes["= /api/matcher/preview"]
    assert not any("notifier" in path or "notifier" in body for path, body in routes.items())


@pytest.mark.unit
def test_writes_are_counted_per_client_address_and_reads_are_not() -> None:
    (write_key,) = re.findall(r"limit_req_zone \$(\w+) zone=cx_writes:", TEMPLATE)
    methods = dict(
        re.findall(r"^\s+(\w+)\s+(\S+);$", dict(blocks(TEMPLATE, "map"))[f"$request_method ${write_key}"], re.M)
    )
    assert methods == {"default": '""', **{m: "$binary_remote_addr" for m in ("POST", "PUT", "PATCH", "DELETE")}}
    assert re.search(r"limit_req_zone \$binary_remote_addr zone=cx_preview:", TEMPLATE)
    assert "limit_req_status 429;" in TEMPLATE


@pytest.mark.unit
@pytest.mark.parametrize("upstream", UPSTREAMS)
def test_each_upstream_address_is_a_template_variable(upstream: str) -> None:
    upstreams = dict(blocks(TEMPLATE, "upstream"))
    assert set(upstreams) == {f"cx_{name}" for name in UPSTREAMS}
    assert f"server ${{CX_GATEWAY_{upstream.upper()}_UPSTREAM}}" in upstreams[f"cx_{upstream}"]


@pytest.mark.unit
@pytest.mark.parametrize("service", (*PUBLIC_APIS, "matcher"))
def test_each_public_service_openapi_document_is_published_under_docs(service: str) -> None:
    body = locations()[f"= /docs/{service}/openapi.json"]
    assert f"proxy_pass http://cx_{service}/openapi.json;" in body


@pytest.mark.unit
def test_unknown_api_paths_get_a_problem_document_instead_of_a_page() -> None:
    body = locations()["/api/"]
    assert "application/problem+json" in body and "return 404" in body and "proxy_pass" not in body


@pytest.mark.unit
def test_every_other_path_is_a_page_of_the_web_service_read_or_posted_as_a_form() -> None:
    body = locations()["/"]
    assert "proxy_pass http://cx_web;" in body
    assert re.search(r"limit_except GET POST \{\s*deny all;\s*\}", body)
    assert "limit_req zone=cx_writes " in body


@pytest.mark.unit
def test_the_gateway_hides_its_version_bounds_bodies_and_bounds_every_wait() -> None:
    for directive in (
        "server_tokens off;",
        "client_max_body_size 1m;",
        "client_body_timeout",
        "client_header_timeout",
        "send_timeout",
        "proxy_connect_timeout",
        "proxy_send_timeout",
        "proxy_read_timeout",
    ):
        assert directive in TEMPLATE


@pytest.mark.unit
@pytest.mark.parametrize("header", SECURITY_HEADERS)
def test_every_response_carries_the_security_headers_even_errors(header: str) -> None:
    assert re.search(rf'^\s*add_header {header} ".+" always;$', TEMPLATE, re.MULTILINE)


@pytest.mark.unit
def test_the_content_security_policy_allows_only_the_sites_own_scripts_and_styles() -> None:
    (policy,) = re.findall(r'add_header Content-Security-Policy "([^"]+)" always;', TEMPLATE)
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == directives["style-src"] == directives["default-src"] == "'self'"
    assert directives["form-action"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.unit
def test_no_location_adds_headers_of_its_own_which_would_drop_the_security_headers() -> None:
    offenders = [path for path, body in locations().items() if "add_header" in body]
    assert not offenders


@pytest.mark.unit
def test_the_access_log_writes_one_json_object_per_request() -> None:
    log_format = re.search(r"log_format cx_json escape=json\s+(.*?);\n", TEMPLATE, re.DOTALL)
    assert log_format
    line = "".join(re.findall(r"'([^']*)'", log_format[1]))
    sample = json.loads(re.sub(r"\$\w+", "0", line))
    assert {"time", "request_id", "method", "uri", "status", "upstream_addr", "traceparent"} <= set(sample)
    assert re.search(r"access_log \$\{CX_GATEWAY_ACCESS_LOG\} cx_json;", TEMPLATE)


@pytest.mark.unit
def test_the_local_runner_substitutes_exactly_the_variables_of_the_template() -> None:
    script = GATEWAY_SH.read_text()
    listed = set(re.findall(r"\$\{(CX_GATEWAY_\w+)\}", re.search(r"TEMPLATE_VARS='([^']*)'", script)[1]))
    used = set(re.findall(r"\$\{(CX_GATEWAY_\w+)\}", TEMPLATE))
    assert listed == used
    for name in used:
        assert re.search(rf'^export {name}="\$\{{{name}:-.+\}}"$', script, re.MULTILINE), f"{name} has no default"


# --- the local gateway, run by deploy/gateway/gateway.sh in front of a stand-in for the services --------

# Small budgets, so a few requests use one up; each rate test writes from a loopback address of its own
# (127.0.0.2, 127.0.0.3, ...), since budgets are per client address.
TEST_BURST = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandInService(BaseHTTPRequestHandler):
    """Answers every request with JSON and records what reached it."""

    seen: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).seen.append((self.command, self.path, dict(self.headers)))
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stand_in() -> Iterator[tuple[int, list[tuple[str, str, dict[str, str]]]]]:
    """One stand-in answering for the catalogue, the applications, the exchanges and the web service."""
    StandInService.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], StandInService.seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def local_gateway(tmp_path_factory: pytest.TempPathFactory, stand_in: tuple[int, list]) -> Iterator[str]:
    # gateway.sh installs nginx from Debian's packages when it is missing (as root); it fails, never skips.
    port = free_port()
    service = f"127.0.0.1:{stand_in[0]}"
    env = {
        **os.environ,
        "CX_GATEWAY_STATE_DIR": str(tmp_path_factory.mktemp("gateway")),
        "CX_GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "CX_GATEWAY_CATALOGUE_UPSTREAM": service,
        "CX_GATEWAY_APPLICATIONS_UPSTREAM": service,
        "CX_GATEWAY_EXCHANGES_UPSTREAM": service,
        "CX_GATEWAY_WEB_UPSTREAM": service,
        # Nothing listens here: the matcher stands for a service that is down.
        "CX_GATEWAY_MATCHER_UPSTREAM": f"127.0.0.1:{free_port()}",
        "CX_GATEWAY_WRITE_RATE": "1r/m",
        "CX_GATEWAY_WRITE_BURST": str(TEST_BURST),
        "CX_GATEWAY_PREVIEW_RATE": "1r/m",
        "CX_GATEWAY_PREVIEW_BURST": str(TEST_BURST),
    }
    subprocess.run(["bash", str(GATEWAY_SH), "start"], env=env, check=True, timeout=300)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(GATEWAY_SH), "stop"], env=env, check=True, timeout=60)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def fetch(
    url: str, method: str = "GET", body: bytes | None = None, *, client: str = "127.0.0.1"
) -> tuple[int, dict[str, str], bytes]:
    """One request from the loopback address `client`: (status, headers, body)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5, source_address=(client, 0))
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def until_refused(url: str, method: str, client: str, tries: int = TEST_BURST + 4) -> list[tuple[int, dict, bytes]]:
    """Send the same request until the gateway refuses it (or `tries` run out)."""
    answers = []
    for _ in range(tries):
        answers.append(fetch(url, method, b"{}", client=client))
        if answers[-1][0] == 429:
            break
    return answers


@pytest.mark.integration
def test_the_local_gateway_passes_every_page_to_the_web_service_with_the_security_headers(
    local_gateway: str, stand_in: tuple[int, list]
) -> None:
    status, headers, body = fetch(local_gateway + "/catalogue/hosts/1234?from=mail")
    assert status == 200 and json.loads(body) == {"path": "/catalogue/hosts/1234?from=mail"}
    assert headers["Server"] == "nginx", "no version in the Server header"
    for header in SECURITY_HEADERS:
        assert header in headers
    assert "Retry-After" not in headers


@pytest.mark.integration
def test_pages_are_read_and_posted_but_nothing_else(local_gateway: str, stand_in: tuple[int, list]) -> None:
    before = len(stand_in[1])
    status, headers, body = fetch(local_gateway + "/entries/1/edit", method="PUT", body=b"{}", client="127.0.0.9")
    assert status == 403
    assert headers["Content-Type"] == "application/problem+json" and json.loads(body)["status"] == 403
    assert len(stand_in[1]) == before


@pytest.mark.integration
@pytest.mark.parametrize("path", ["/", "/api/catalogue/hosts", "/docs/catalogue/openapi.json"])
def test_trace_is_refused_with_a_problem_document_not_an_nginx_page(
    local_gateway: str, stand_in: tuple[int, list], path: str
) -> None:
    before = len(stand_in[1])
    status, headers, body = fetch(local_gateway + path, method="TRACE", client="127.0.0.9")
    assert status in (403, 405)
    assert headers["Content-Type"] == "application/problem+json" and json.loads(body)["status"] == status
    assert "nginx" not in body.decode(errors="replace").lower()
    assert len(stand_in[1]) == before, "nothing reached a service"


@pytest.mark.integration
def test_the_local_gateway_passes_api_paths_on_with_their_prefix_and_a_request_id(
    local_gateway: str, stand_in: tuple[int, list]
) -> None:
    status, headers, body = fetch(local_gateway + "/api/catalogue/hosts?country=SI")
    assert status == 200 and json.loads(body) == {"path": "/api/catalogue/hosts?country=SI"}
    method, path, forwarded = stand_in[1][-1]
    assert (method, path) == ("GET", "/api/catalogue/hosts?country=SI")
    assert forwarded["X-Request-ID"] == headers["X-Request-ID"]


@pytest.mark.integration
def test_a_post_to_the_bare_service_prefix_reaches_the_service_without_a_redirect(
    local_gateway: str, stand_in: tuple[int, list]
) -> None:
    status, _, _ = fetch(local_gateway + "/api/applications", method="POST", body=b"{}", client="127.0.0.8")
    assert status == 200
    assert stand_in[1][-1][:2] == ("POST", "/api/applications")


@pytest.mark.integration
@pytest.mark.parametrize("path", NOT_ROUTED)
def test_internal_and_operational_routes_are_not_reachable_through_the_gateway(
    local_gateway: str, stand_in: tuple[int, list], path: str
) -> None:
    before = len(stand_in[1])
    status, headers, body = fetch(local_gateway + path)
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json" and json.loads(body)["status"] == 404
    assert len(stand_in[1]) == before, f"{path} reached a service"


@pytest.mark.integration
def test_the_gateway_answers_its_own_liveness_not_a_services(local_gateway: str, stand_in: tuple[int, list]) -> None:
    before = len(stand_in[1])
    status, _, body = fetch(local_gateway + "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert len(stand_in[1]) == before


@pytest.mark.integration
def test_the_local_gateway_publishes_a_service_openapi_document_under_docs(
    local_gateway: str, stand_in: tuple[int, list]
) -> None:
    status, _, _ = fetch(local_gateway + "/docs/catalogue/openapi.json")
    assert status == 200
    assert stand_in[1][-1][:2] == ("GET", "/openapi.json")


@pytest.mark.integration
def test_a_service_that_is_down_answers_with_a_problem_document(local_gateway: str) -> None:
    status, headers, body = fetch(local_gateway + "/api/matcher/preview", method="POST", body=b"{}", client="127.0.0.7")
    assert status == 502
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 502


@pytest.mark.integration
def test_a_body_over_the_gateway_limit_is_refused_before_it_reaches_a_service(
    local_gateway: str, stand_in: tuple[int, list]
) -> None:
    before = len(stand_in[1])
    status, headers, _ = fetch(
        local_gateway + "/api/catalogue/hosts", method="POST", body=b"x" * (2 * 1024 * 1024), client="127.0.0.6"
    )
    assert status == 413 and headers["Content-Type"] == "application/problem+json"
    assert len(stand_in[1]) == before


@pytest.mark.integration
@pytest.mark.parametrize(("path", "client"), [("/api/catalogue/hosts", "127.0.0.2"), ("/entries/new", "127.0.0.3")])
def test_writes_beyond_a_clients_budget_get_429_as_a_problem_document_while_others_keep_theirs(
    local_gateway: str, stand_in: tuple[int, list], path: str, client: str
) -> None:
    answers = until_refused(local_gateway + path, "POST", client)

    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * (TEST_BURST + 1) + [429], "one request at the rate, then the burst, then refused"
    _, headers, body = answers[-1]
    assert headers["Content-Type"] == "application/problem+json" and json.loads(body)["status"] == 429
    assert headers["Retry-After"] == "1"
    for header in SECURITY_HEADERS:
        assert header in headers
    assert fetch(local_gateway + path, client=client)[0] == 200, "reading is not limited"
    assert fetch(local_gateway + path, "POST", b"{}", client="127.0.0.10")[0] == 200, "another client has its budget"


@pytest.mark.integration
def test_the_preview_has_a_budget_of_its_own_per_client(local_gateway: str) -> None:
    answers = until_refused(local_gateway + "/api/matcher/preview", "POST", "127.0.0.4")

    assert [status for status, _, _ in answers] == [502] * (TEST_BURST + 1) + [429]
    assert fetch(local_gateway + "/api/catalogue/hosts", "POST", b"{}", client="127.0.0.4")[0] == 200
