"""Start and stop a service's parts in order: store client, broker, background workers, HTTP."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol, TypeVar

import uvicorn
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from cx_kit.logs import configure_logging
from cx_kit.settings import ServiceSettings

logger = logging.getLogger(__name__)

Settings = TypeVar("Settings", bound=ServiceSettings)


class BackgroundWorker(Protocol):
    """Something that runs beside the HTTP app (an outbox relay, an index snapshotter)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def lifespan_for(
    broker: KafkaBroker | None,
    mongo: AsyncMongoClient | None = None,
    workers: Sequence[BackgroundWorker] = (),
    on_startup: Sequence[Any] = (),
) -> Any:
    """A FastAPI lifespan: run `on_startup` hooks, start the broker and the workers; stop them in reverse."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook()
        if broker is not None:
            await broker.start()
        started: list[BackgroundWorker] = []
        try:
            for worker in workers:
                await worker.start()
                started.append(worker)
            yield
        finally:
            for worker in reversed(started):
                await worker.stop()
            if broker is not None:
                await broker.stop()
            if mongo is not None:
                await mongo.close()

    return lifespan


def serve(app: Any, settings: ServiceSettings) -> None:
    """Run the HTTP app (and with it the broker and workers) until SIGINT/SIGTERM."""
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False)


def run_service(create_app: Callable[[Settings], Any], settings_type: type[Settings]) -> None:
    """`python -m cx_<service>`: read the settings from the environment, log as they say, serve until stopped."""
    settings = settings_type()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    serve(create_app(settings), settings)


class ServiceParts:
    """The clients every service builds the same way from its settings: metrics, broker, store."""

    def __init__(self, settings: ServiceSettings) -> None:
        from faststream.kafka.prometheus import KafkaPrometheusMiddleware
        from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

        from cx_kit.kafka import RetryPolicy, make_broker
        from cx_kit.mongo import connect_mongo

        self.settings = settings
        self.registry = CollectorRegistry()
        # The service's own registry, so tests can build many apps; add the process-level collectors
        # operators expect from the default one (memory, CPU, GC, Python version).
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.broker = make_broker(
            settings.kafka_bootstrap_servers,
            client_id=settings.service_name,
            retry=RetryPolicy(
                settings.consumer_max_attempts, settings.consumer_backoff_initial_s, settings.consumer_backoff_max_s
            ),
            middlewares=[KafkaPrometheusMiddleware(registry=self.registry, app_name=settings.service_name)],
        )
        self.mongo = connect_mongo(
            settings.mongo_url.get_secret_value(), settings.service_name, settings.mongo_max_pool_size
        )
        self.database = self.mongo[settings.mongo_database]

    def readiness(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The checks behind /readyz: what requests need (the store), and what is only reported (the broker).

        No route needs the broker: writes put their events in the store's outbox, which the relay publishes
        when the broker is back, and consumers pause and resume by themselves. A service out of traffic while
        Kafka is down would refuse writes it can keep."""
        from cx_kit.mongo import mongo_reachable

        async def broker_ready() -> bool:
            try:
                return bool(await self.broker.ping(timeout=2.0))
            except Exception:
                return False

        async def store_ready() -> bool:
            return await mongo_reachable(self.mongo)

        return {"mongodb": store_ready}, {"kafka": broker_ready}

    def http_app(
        self,
        *,
        title: str,
        version: str,
        description: str = "",
        routers: Sequence[Any] = (),
        workers: Sequence[BackgroundWorker] = (),
        on_startup: Sequence[Any] = (),
    ) -> Any:
        """The service's FastAPI app, whose lifespan runs the broker and the background workers."""
        from cx_kit.http import build_http_app

        needed, reported = self.readiness()
        app = build_http_app(
            title=title,
            version=version,
            description=description,
            registry=self.registry,
            readiness=needed,
            reported=reported,
            max_request_bytes=self.settings.max_request_bytes,
            lifespan=lifespan_for(self.broker, self.mongo, workers, on_startup),
        )
        for router in routers:
            app.include_router(router)
        app.state.broker = self.broker  # what the AsyncAPI document is generated from
        return app
