"""The services' public API over HTTP: the pages' `PlatformApi`, with the signed-in person's bearer token.

The pages call the services directly (not through the gateway), so the gateway's per-client rate limits
count each person's own requests, not the web service's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from cx_web.handlers import ApiAnswer, Service, ServiceUnavailable

logger = logging.getLogger(__name__)

_REVISION = re.compile(r'"([1-9][0-9]{0,17})"')


class HttpPlatformApi:
    """Calls the catalogue, applications and exchanges services, one pooled client each."""

    def __init__(
        self,
        *,
        catalogue_url: str,
        applications_url: str,
        exchanges_url: str,
        timeout_s: float,
        transports: Mapping[Service, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        bases: dict[Service, str] = {
            "catalogue": catalogue_url,
            "applications": applications_url,
            "exchanges": exchanges_url,
        }
        self._clients = {
            service: httpx.AsyncClient(
                base_url=base.rstrip("/"),
                timeout=httpx.Timeout(timeout_s),
                headers={"Accept": "application/json, application/problem+json"},
                transport=(transports or {}).get(service),
                follow_redirects=False,
            )
            for service, base in bases.items()
        }

    async def call(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None = None,
        query: Sequence[tuple[str, str]] = (),
        document: Mapping[str, Any] | None = None,
        revision: int | None = None,
        idempotency_key: str | None = None,
    ) -> ApiAnswer:
        """One request to `service`; a transport failure or a 5xx is `ServiceUnavailable`."""
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if revision is not None:
            headers["If-Match"] = f'"{revision}"'
        try:
            response = await self._clients[service].request(
                method, path, params=list(query), json=document, headers=headers
            )
        except httpx.HTTPError as error:
            logger.warning("service call failed", extra={"service": service, "error": type(error).__name__})
            raise ServiceUnavailable(f"the {service} service cannot be reached") from None
        if response.status_code >= 500:
            raise ServiceUnavailable(f"the {service} service answered {response.status_code}")
        body = response.json() if response.content and "json" in response.headers.get("content-type", "") else None
        tag = _REVISION.fullmatch(response.headers.get("etag", ""))
        return ApiAnswer(response.status_code, body, int(tag[1]) if tag else None)

    async def reachable(self, service: Service) -> bool:
        """Whether `service` answers its liveness probe (the pages' readiness)."""
        try:
            return (await self._clients[service].get("/healthz", timeout=2.0)).status_code == 200
        except httpx.HTTPError:
            return False

    async def close(self) -> None:
        """Close the pooled connections."""
        for client in self._clients.values():
            await client.aclose()
