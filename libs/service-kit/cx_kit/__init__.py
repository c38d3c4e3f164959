"""The ClusterXchange service kit: the code every service shares, written once.

- settings: `ServiceSettings`, the base of each service's pydantic-settings class
- kafka: `make_broker` (durable producer, at-least-once subscribers), `DeadLetterMiddleware`, `ensure_topics`
- outbox: `OutboxEntry`, `with_outbox`, `OutboxRelay` (state and event in one MongoDB update)
- inbox: `Inbox` (consumers drop events they already applied)
- http: health, readiness, metrics, RFC 9457 problem details, body-size limit
- aggregates: `OwnedAggregates`, the repository of organisation-owned records with revisions and their events
- aggregate_http: ETag / If-Match (412, 428), outcomes as problem details, an unreachable store as 503
- ownership: `calling_organisation` (the one dependency saying who owns what), the internal service token
- api_documents: write and check a service's OpenAPI and AsyncAPI documents
- service_testing: probes for services' integration tests (namespaced topics, the app over HTTP, real processes)
- mongo, logs, runtime: client, JSON logs, start/stop order
"""
