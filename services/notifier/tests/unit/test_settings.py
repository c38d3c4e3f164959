"""The notifier's settings: SMTP, links, contacts, the cap, and retries that fit Kafka's poll interval."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cx_notifier.settings import Settings

pytestmark = pytest.mark.unit

SECRET = "a-test-secret-that-is-not-the-placeholder"


def _settings(**values) -> Settings:
    return Settings(internal_token=SECRET, environment="test", **values)


def test_the_default_retries_outlast_a_relay_refusing_connections_for_30_seconds() -> None:
    settings = _settings()
    waited = sum(settings.retry.delay(attempt) for attempt in range(1, settings.consumer_max_attempts))

    assert waited >= 40, "30 s of outage plus a margin, before the record is dead-lettered"
    assert settings.worst_record_seconds() <= 0.8 * settings.kafka_max_poll_interval_s


def test_retries_that_could_outlast_kafkas_poll_interval_are_refused() -> None:
    with pytest.raises(ValidationError, match="KAFKA_MAX_POLL_INTERVAL_S"):
        _settings(consumer_max_attempts=40)


def test_starttls_and_implicit_tls_exclude_each_other() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        _settings(smtp_starttls=True, smtp_use_tls=True)


def test_production_refuses_smtp_credentials_in_clear_text() -> None:
    with pytest.raises(ValidationError, match="clear text"):
        Settings(internal_token=SECRET, environment="production", smtp_username="relay", smtp_password="pw")
    assert Settings(
        internal_token=SECRET, environment="production", smtp_username="relay", smtp_password="pw", smtp_starttls=True
    ).smtp_starttls


def test_empty_credentials_mean_no_authentication() -> None:
    settings = _settings(smtp_username=" ", smtp_password="")

    assert settings.smtp_username is None and settings.smtp_password is None


def test_urls_lose_their_trailing_slash_and_must_be_http() -> None:
    assert _settings(public_base_url="https://exchange.example/").public_base_url == "https://exchange.example"
    with pytest.raises(ValidationError, match="http"):
        _settings(catalogue_url="catalogue:8101")


def test_the_sender_names_the_message_id_domain() -> None:
    settings = _settings(mail_from="ClusterXchange <no-reply@mail.exchange.example>")

    assert settings.sender_address == "no-reply@mail.exchange.example"
    assert settings.mail_domain == "mail.exchange.example"
    with pytest.raises(ValidationError, match="address"):
        _settings(mail_from="ClusterXchange")


def test_a_claim_must_outlive_one_smtp_conversation() -> None:
    with pytest.raises(ValidationError, match="SEND_LEASE_S"):
        _settings(smtp_timeout_s=30, send_lease_s=30)


def test_settings_come_from_cx_notifier_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_NOTIFIER_SMTP_HOST", "relay.example")
    monkeypatch.setenv("CX_NOTIFIER_SMTP_PORT", "587")
    monkeypatch.setenv("CX_NOTIFIER_SMTP_STARTTLS", "true")
    monkeypatch.setenv("CX_NOTIFIER_MAILS_PER_RECIPIENT", "5")
    monkeypatch.setenv("CX_NOTIFIER_DIGEST_PERIOD_S", "3600")
    monkeypatch.setenv("CX_NOTIFIER_INTERNAL_TOKEN", SECRET)

    settings = Settings()

    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("relay.example", 587, True)
    assert settings.mails_per_recipient == 5
    assert settings.digest_period_s == 3600
    assert settings.introductions_retention_days == 400, "a visitor's introductions outlive the ledger"


def test_consumer_groups_live_in_the_topic_namespace() -> None:
    assert _settings(topic_namespace="staging.").consumer_group("cx-notifier.match-found") == (
        "staging.cx-notifier.match-found"
    )
