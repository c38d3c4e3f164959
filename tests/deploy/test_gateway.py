"""The gateway: one nginx template routes each service's prefix, guards every response, and runs locally."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "services/gateway/nginx/templates/default.conf.template"
TEMPLATE = TEMPLATE_PATH.read_text()
GATEWAY_SH = ROOT / "deploy/gateway/gateway.sh"
WEB_ROOT = ROOT / "services/gateway/web"
SERVICES = ("catalogue", "applications", "matcher", "notifier")
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy")


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
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_prefix_is_proxied_to_its_service_with_the_prefix_kept(service: str) -> None:
    routes = locations()
    for path in (f"/api/{service}/", f"= /api/{service}"):
        assert path in routes, f"no location {path}"
        # proxy_pass without a URI part passes the request path on unchanged, /api/<service> included.
        assert re.fullmatch(rf"\s*proxy_pass http://cx_{service};\s*", routes[path])


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_address_is_a_template_variable(service: str) -> None:
    upstreams = dict(blocks(TEMPLATE, "upstream"))
    assert f"server ${{CX_GATEWAY_{service.upper()}_UPSTREAM}}" in upstreams[f"cx_{service}"]


@pytest.mark.unit
@pytest.mark.parametrize("service", SERVICES)
def test_each_service_openapi_document_is_published_under_docs(service: str) -> None:
    body = locations()[f"= /docs/{service}/openapi.json"]
    assert f"proxy_pass http://cx_{service}/openapi.json;" in body


@pytest.mark.unit
def test_unknown_api_paths_get_a_problem_document_instead_of_the_web_front_end() -> None:
    body = locations()["/api/"]
    assert "application/problem+json" in body and "return 404" in body


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


@pytest.mark.unit
def test_the_web_front_end_has_an_index_page_without_inline_code_the_csp_would_block() -> None:
    page = (WEB_ROOT / "index.html").read_text()
    assert re.search(r"<script [^>]*src=", page)
    assert not re.search(r"<script(?![^>]*src=)[^>]*>", page), "inline <script> is blocked by script-src 'self'"
    assert not re.search(r"\son\w+=", page) and "<style" not in page and " style=" not in page
    for asset in re.findall(r'(?:src|href)="/([\w.-]+)"', page):
        assert (WEB_ROOT / asset).is_file(), f"/{asset} is linked but missing"


# --- the local gateway, run by deploy/gateway/gateway.sh against a stand-in service ---------------------


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

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stand_in_catalogue() -> Iterator[tuple[int, list[tuple[str, str, dict[str, str]]]]]:
    StandInService.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], StandInService.seen
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def local_gateway(tmp_path_factory: pytest.TempPathFactory, stand_in_catalogue: tuple[int, list]) -> Iterator[str]:
    # gateway.sh installs nginx from Debian's packages when it is missing (as root); it fails, never skips.
    port = free_port()
    env = {
        **os.environ,
        "CX_GATEWAY_STATE_DIR": str(tmp_path_factory.mktemp("gateway")),
        "CX_GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "CX_GATEWAY_CATALOGUE_UPSTREAM": f"127.0.0.1:{stand_in_catalogue[0]}",
        # Nothing listens on these: the matcher stands for a service that is down.
        "CX_GATEWAY_APPLICATIONS_UPSTREAM": f"127.0.0.1:{free_port()}",
        "CX_GATEWAY_MATCHER_UPSTREAM": f"127.0.0.1:{free_port()}",
        "CX_GATEWAY_NOTIFIER_UPSTREAM": f"127.0.0.1:{free_port()}",
    }
    subprocess.run(["bash", str(GATEWAY_SH), "start"], env=env, check=True, timeout=300)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(GATEWAY_SH), "stop"], env=env, check=True, timeout=60)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()


def fetch(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.integration
def test_the_local_gateway_serves_the_web_front_end_at_the_root(local_gateway: str) -> None:
    status, headers, body = fetch(local_gateway + "/")
    assert status == 200 and b"ClusterXchange" in body
    assert headers["Server"] == "nginx", "no version in the Server header"
    for header in SECURITY_HEADERS:
        assert header in headers


@pytest.mark.integration
def test_the_local_gateway_passes_api_paths_on_with_their_prefix_and_a_request_id(
    local_gateway: str, stand_in_catalogue: tuple[int, list]
) -> None:
    status, headers, body = fetch(local_gateway + "/api/catalogue/hosts?country=SI")
    assert status == 200 and json.loads(body) == {"path": "/api/catalogue/hosts?country=SI"}
    method, path, forwarded = stand_in_catalogue[1][-1]
    assert (method, path) == ("GET", "/api/catalogue/hosts?country=SI")
    assert forwarded["X-Request-ID"] == headers["X-Request-ID"]


@pytest.mark.integration
def test_a_post_to_the_bare_service_prefix_reaches_the_service_without_a_redirect(
    local_gateway: str, stand_in_catalogue: tuple[int, list]
) -> None:
    status, _, _ = fetch(local_gateway + "/api/catalogue", method="POST", body=b"{}")
    assert status == 200
    assert stand_in_catalogue[1][-1][:2] == ("POST", "/api/catalogue")


@pytest.mark.integration
def test_the_local_gateway_publishes_a_service_openapi_document_under_docs(
    local_gateway: str, stand_in_catalogue: tuple[int, list]
) -> None:
    status, _, _ = fetch(local_gateway + "/docs/catalogue/openapi.json")
    assert status == 200
    assert stand_in_catalogue[1][-1][:2] == ("GET", "/openapi.json")


@pytest.mark.integration
def test_a_service_that_is_down_answers_with_a_problem_document(local_gateway: str) -> None:
    status, headers, body = fetch(local_gateway + "/api/matcher/status")
    assert status == 502
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["status"] == 502


@pytest.mark.integration
def test_a_body_over_the_gateway_limit_is_refused_before_it_reaches_a_service(
    local_gateway: str, stand_in_catalogue: tuple[int, list]
) -> None:
    before = len(stand_in_catalogue[1])
    status, headers, _ = fetch(local_gateway + "/api/catalogue/hosts", method="POST", body=b"x" * (2 * 1024 * 1024))
    assert status == 413 and headers["Content-Type"] == "application/problem+json"
    assert len(stand_in_catalogue[1]) == before
