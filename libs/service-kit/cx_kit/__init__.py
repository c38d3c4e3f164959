"""The ClusterXchange service kit: the code every service shares, written once.

- settings: `ServiceSettings`, the base of each service's pydantic-settings class
- kafka: `make_broker` (durable producer, at-least-once subscribers), `DeadLetterMiddleware`, `ensure_topics`
- outbox: `OutboxEntry`, `with_outbox`, `OutboxRelay` (state and event in one MongoDB update)
- inbox: `Inbox` (consumers drop events they already applied)
- http: health, readiness, metrics, RFC 9457 problem details, body-size limit
- mongo, logs, runtime: client, JSON logs, start/stop order
"""
