"""The ClusterXchange service kit: the code every service shares, written once.

- settings: `ServiceSettings`, the base of each service's pydantic-settings class; `SignInSettings` (whose tokens
  it accepts), `OwnedRecordSettings` (and the partnerships its records may name)
- kafka: `make_broker` (durable producer, at-least-once subscribers), `DeadLetterMiddleware`, `contract_decoder`,
  `ensure_topics`
- outbox: `OutboxEntry`, `with_outbox`, `OutboxRelay` (state and event in one MongoDB update)
- http: health, readiness, metrics, RFC 9457 problem details, body-size limit
- aggregates: `OwnedAggregates`, the repository of organisation-owned records with revisions and their events
- aggregate_http: ETag / If-Match (412, 428), outcomes as problem details, an unreachable store as 503
- aggregate_routes: `owned_aggregate_router`, `contacts_router` and `records_router`, the routes of an owned
  record (and the caller's private list of them, its internal contact card and facts), configured per service by
  an `OwnedAggregateRoutes`
- internal_records: `InternalRecords`, the client of those internal routes (a record's facts, its contact card)
- aggregate_service: `OwnedAggregateService`, the wiring of a service owning one kind of record
- tokens: `TokenVerifier`, a bearer token checked with PyJWT against the issuer's JWKS (issuer, audience, expiry)
- ownership: `Ownership` (the one dependency turning a request into a `Caller`), `read_view` and the other
  access rules (owners, partnership managers, the two sides of an exchange), `contact_for` (the verified
  address), the internal service token
- api_documents: `ServiceDocuments`, a service's OpenAPI and AsyncAPI documents, written and checked
- service_testing: probes for services' integration tests (namespaced topics, the app over HTTP, real processes)
- aggregate_suite: `OwnedAggregateSuite`, the integration tests every owned-aggregate service runs
- periodic: `PeriodicTask`, a background job run every interval (and at once when woken)
- testing: pytest fixtures for the real Kafka, FerretDB and Mailpit (the `[testing]` extra)
- mongo, logs, runtime: client, JSON logs, start/stop order and `run_service` (each `python -m cx_<service>`)

Consumers need no inbox of processed event ids: each effect is idempotent on its own document (applications
keep the latest match run with a guarded update, the notifier's ledger is keyed by run and recipient, the
matcher guards on revision).
"""
