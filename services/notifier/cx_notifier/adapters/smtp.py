"""Where mail leaves: one SMTP conversation per message (aiosmtplib), with TLS and credentials from settings.

The relay's answer to the message data is the moment a mail exists; the error types say how sure we are
that it does not: `RelayUnavailable` (certainly not sent), `DeliveryUncertain` (the connection broke after
the data went out, so it may have been), `RecipientRefused` (a 5xx for this recipient: never retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from aiosmtplib import SMTP, SMTPException, SMTPResponseException
from aiosmtplib.email import flatten_message
from pydantic import SecretStr

from cx_notifier.domain.proposals import OutgoingMail
from cx_notifier.handlers.interfaces import DeliveryError, RecipientRefused

QUIT_TIMEOUT_S = 2.0
# Relays quote the address they refuse ("550 5.1.1 <x@y>: unknown"); errors end up in the ledger, logs and
# dead-letter headers, which must hold no personal data.
_ADDRESS = re.compile(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+")


def without_addresses(text: str) -> str:
    """`text` with every e-mail address replaced by `<address>`, cut to 300 characters."""
    return _ADDRESS.sub("<address>", text)[:300]


class RelayUnavailable(DeliveryError):
    """The relay was unreachable or refused before the message data: it certainly did not take the mail."""


class DeliveryUncertain(DeliveryError):
    """The connection broke while the message data was out: the relay may have taken the mail."""

    uncertain = True


def build_message(mail: OutgoingMail, *, sender: str, date: datetime) -> EmailMessage:
    """The MIME message: a plain-text part and an HTML alternative, both quoted-printable UTF-8."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((mail.to_name, mail.to_address))
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = mail.message_id
    message["Content-Language"] = mail.language
    # RFC 3834: machine-sent, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text, subtype="plain", cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    return message


class SmtpRelay:
    """The notifier's `MailRelay`: each mail in its own SMTP conversation, bounded by one overall timeout."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        use_tls: bool = False,
        timeout_s: float = 10.0,
        local_hostname: str = "cx-notifier",
    ) -> None:
        self._sender = sender
        self._envelope_sender = parseaddr(sender)[1]
        self._relay = f"{host}:{port}"
        self._timeout_s = timeout_s
        # A new client per mail, one conversation each; the local hostname is named explicitly, or aiosmtplib
        # would ask the resolver for this machine's FQDN every time.
        self._client = functools.partial(
            SMTP,
            hostname=host,
            port=port,
            username=username,
            password=password.get_secret_value() if password is not None else None,
            use_tls=use_tls,
            start_tls=starttls,
            timeout=timeout_s,
            local_hostname=local_hostname,
        )

    async def send(self, mail: OutgoingMail) -> datetime:
        """Send `mail`; returns the moment the relay answered 250 to its data."""
        data = flatten_message(build_message(mail, sender=self._sender, date=datetime.now(UTC)))
        recipient = Address(addr_spec=mail.to_address).addr_spec
        smtp = self._client()
        stage = "connect"
        try:
            async with asyncio.timeout(self._timeout_s):
                await smtp.connect()
                stage = "sender"
                await smtp.mail(self._envelope_sender)
                stage = "recipient"
                await smtp.rcpt(recipient)
                stage = "data"
                await smtp.data(data)
                accepted_at = datetime.now(UTC)
        except SMTPResponseException as error:
            _close(smtp)
            answer = f"{error.code} {error.message}"
            if stage in ("recipient", "data") and 500 <= error.code < 600:
                raise RecipientRefused(without_addresses(f"relay refused the {stage}: {answer}")) from None
            raise RelayUnavailable(without_addresses(f"relay answered {answer} at {stage}")) from None
        except (SMTPException, OSError, TimeoutError) as error:
            _close(smtp)
            kind = DeliveryUncertain if stage == "data" else RelayUnavailable
            raise kind(
                without_addresses(f"SMTP relay {self._relay} unreachable at {stage}: {type(error).__name__}: {error}")
            ) from None
        # The mail exists now; a failing goodbye must not make it look unsent.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(QUIT_TIMEOUT_S):
                await smtp.quit()
        _close(smtp)
        return accepted_at


def _close(smtp: SMTP) -> None:
    with contextlib.suppress(Exception):
        smtp.close()
