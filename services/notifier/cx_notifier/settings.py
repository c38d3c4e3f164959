"""Settings of the notifier service (environment variables prefixed CX_NOTIFIER_)."""

from __future__ import annotations

from email.utils import parseaddr

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from cx_kit.kafka import RetryPolicy
from cx_kit.settings import ServiceSettings

# A record's retries must end well before Kafka declares the consumer dead (max.poll.interval): a consumer
# that stops polling for that long is thrown out of its group and its partitions move elsewhere.
POLL_INTERVAL_SHARE = 0.8


class Settings(ServiceSettings):
    """Everything the notifier service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="CX_NOTIFIER_", extra="ignore", frozen=True)

    service_name: str = "cx-notifier"
    mongo_database: str = "notifier"
    http_port: int = 8104

    # Retries of a match-found record (SMTP or contact look-up failing). 12 attempts backing off 0.5 s to 5 s
    # wait 42.5 s in all, so an SMTP relay that refuses connections for 30 s costs no dead letter.
    consumer_max_attempts: int = Field(12, ge=1, description="Tries of a failing record before the dead-letter topic.")
    consumer_backoff_initial_s: float = Field(0.5, ge=0)
    consumer_backoff_max_s: float = Field(5.0, ge=0)
    kafka_max_poll_interval_s: float = Field(
        300.0, gt=0, description="Kafka's max.poll.interval of the match-found consumer; retries must fit in 80%."
    )

    smtp_host: str = Field("127.0.0.1", min_length=1, description="Mail relay host (locally Mailpit).")
    smtp_port: int = Field(1025, ge=1, le=65535, description="Mail relay port (Mailpit 1025, submission 587, TLS 465).")
    smtp_username: str | None = Field(None, description="Relay user; empty means no authentication.")
    smtp_password: SecretStr | None = Field(None, description="Relay password.")
    smtp_starttls: bool = Field(False, description="Upgrade the connection with STARTTLS (port 587 relays).")
    smtp_use_tls: bool = Field(False, description="Connect over TLS from the start (port 465 relays).")
    smtp_timeout_s: float = Field(10.0, gt=0, le=120, description="Longest a whole SMTP conversation may take.")
    mail_from: str = Field(
        "ClusterXchange <notifications@clusterxchange.example>",
        description="From header and envelope sender; its domain also names the Message-IDs.",
    )

    public_base_url: str = Field(
        "http://127.0.0.1:8080", description="Where people reach the platform; every link in a mail starts here."
    )
    catalogue_url: str = Field("http://127.0.0.1:8101", description="Catalogue service, for host contact cards.")
    applications_url: str = Field(
        "http://127.0.0.1:8102", description="Applications service, for visitor contact cards."
    )
    contact_timeout_s: float = Field(5.0, gt=0, le=60, description="Longest one contact look-up may take.")

    mails_per_recipient: int = Field(
        20, ge=1, description="Proposal mails a recipient gets per period; the rest waits for one digest."
    )
    digest_period_s: float = Field(
        86400.0,
        gt=0,
        description="Length of a period (UTC-aligned windows): the cap counts per period, and what was held back "
        "(a visitor's hosts after its first list, a host's proposals over the cap) goes out in one digest "
        "per recipient when the period ends.",
    )
    digest_interval_s: float = Field(60.0, gt=0, description="How often finished periods are looked at for digests.")
    introductions_retention_days: float = Field(
        400.0,
        gt=30,
        description="How long the notifier remembers which hosts a visitor heard of, after its last new one; "
        "a visitor forgotten would get its whole list again.",
    )
    resume_after_s: float = Field(
        60.0, gt=0, description="A pending mail planned longer ago than this, and claimed by nobody, is resumed."
    )
    resume_interval_s: float = Field(30.0, gt=0, description="How often pending mails are looked at for resuming.")
    outbox_poll_interval_s: float = Field(
        0.5, gt=0, description="Relay pass period when nothing wakes it (sent mails wake it at once)."
    )
    outbox_scan_interval_s: float = Field(
        30.0, gt=0, description="How often the relay scans the whole ledger for events a crash left behind."
    )
    ledger_retention_days: float = Field(
        35.0,
        gt=30,
        description="Finished entries are forgotten after this; longer than match-found's 30 days, "
        "so a record that can still be replayed always finds its entries.",
    )
    archive_interval_s: float = Field(
        2.0, gt=0, description="How often finished entries move out of the in-flight collection (keeps it small)."
    )
    prune_interval_s: float = Field(3600.0, gt=0, description="How often old ledger entries are pruned.")
    status_cache_s: float = Field(
        5.0, gt=0, le=300, description="GET /api/notifier/status counts the ledger at most this often."
    )
    send_lease_s: float = Field(
        30.0, gt=0, description="How long a claim on a pending mail lasts; must outlive one SMTP conversation."
    )

    def consumer_group(self, name: str) -> str:
        """The consumer group `name` in this deployment's namespace (parallel environments never share one)."""
        return self.topic_namespace + name

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of the match-found subscriber."""
        return RetryPolicy(self.consumer_max_attempts, self.consumer_backoff_initial_s, self.consumer_backoff_max_s)

    def worst_record_seconds(self) -> float:
        """Upper bound of the time one record may spend in retries: every attempt timing out, plus backoff."""
        backoff = sum(self.retry.delay(attempt) for attempt in range(1, self.consumer_max_attempts))
        return backoff + self.consumer_max_attempts * (self.smtp_timeout_s + self.contact_timeout_s)

    @field_validator("smtp_username", mode="before")
    @classmethod
    def _empty_username_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("smtp_password", mode="before")
    @classmethod
    def _empty_password_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("public_base_url", "catalogue_url", "applications_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError("must be an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("mail_from")
    @classmethod
    def _sender_address(cls, value: str) -> str:
        _, address = parseaddr(value)
        if "@" not in address or not address.rsplit("@", 1)[1]:
            raise ValueError("must hold an address, as in 'ClusterXchange <notifications@example.org>'")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.smtp_starttls and self.smtp_use_tls:
            raise ValueError("CX_NOTIFIER_SMTP_STARTTLS and CX_NOTIFIER_SMTP_USE_TLS exclude each other")
        if self.environment == "production" and self.smtp_username and not (self.smtp_starttls or self.smtp_use_tls):
            raise ValueError("SMTP credentials would travel in clear text: set SMTP_STARTTLS or SMTP_USE_TLS")
        if self.send_lease_s < self.smtp_timeout_s + 5:
            raise ValueError("CX_NOTIFIER_SEND_LEASE_S must exceed SMTP_TIMEOUT_S by 5 s at least")
        budget = POLL_INTERVAL_SHARE * self.kafka_max_poll_interval_s
        if self.worst_record_seconds() > budget:
            raise ValueError(
                f"retries of one record may take {self.worst_record_seconds():.0f} s, over {budget:.0f} s "
                "(80% of KAFKA_MAX_POLL_INTERVAL_S): lower CONSUMER_MAX_ATTEMPTS, the backoff or the timeouts"
            )
        return self

    @property
    def sender_address(self) -> str:
        """The bare address of `mail_from`, the SMTP envelope sender."""
        return parseaddr(self.mail_from)[1]

    @property
    def mail_domain(self) -> str:
        """The domain of the sender address, the right-hand side of every Message-ID."""
        return self.sender_address.rsplit("@", 1)[1]
