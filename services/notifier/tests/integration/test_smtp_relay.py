"""The SMTP adapter's reading of a relay's answers: refused for good, try again, or maybe sent.

Mailpit accepts everything and the shared instance cannot be reconfigured, so these cases talk to a small
scripted SMTP responder on loopback; the mails that must arrive are tested against Mailpit elsewhere.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from cx_notifier.adapters.smtp import DeliveryUncertain, RelayUnavailable, SmtpRelay
from cx_notifier.domain.proposals import OutgoingMail
from cx_notifier.handlers.interfaces import RecipientRefused

pytestmark = pytest.mark.integration

MAIL = OutgoingMail(
    message_id="<run.recipient@cx.example>",
    to_name="Ana Lima",
    to_address="ana.lima@org.example",
    subject="s",
    text="t\n",
    html="<!DOCTYPE html><html><head><title>t</title></head><body></body></html>",
    language="en",
)


@pytest.fixture
async def scripted_relay() -> AsyncIterator[Callable[..., asyncio.Server]]:
    """Start a responder that answers RCPT and the end of DATA as told (or hangs up after the data)."""
    servers: list[asyncio.Server] = []

    async def start(*, rcpt: str = "250 OK", data_end: str | None = "250 OK queued") -> int:
        async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"220 scripted ESMTP\r\n")
            in_data = False
            while line := await reader.readline():
                if in_data:
                    if line == b".\r\n":
                        if data_end is None:  # the connection breaks after the message went out
                            writer.transport.abort()
                            return
                        writer.write(data_end.encode() + b"\r\n")
                        in_data = False
                    continue
                verb = line[:4].upper()
                answer = {
                    b"EHLO": "250 scripted",
                    b"HELO": "250 scripted",
                    b"MAIL": "250 OK",
                    b"RCPT": rcpt,
                    b"DATA": "354 go ahead",
                    b"QUIT": "221 bye",
                    b"RSET": "250 OK",
                }.get(verb, "502 no")
                in_data = verb == b"DATA"
                writer.write(answer.encode() + b"\r\n")
                await writer.drain()
                if verb == b"QUIT":
                    break
            writer.close()

        server = await asyncio.start_server(session, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()


def _relay(port: int) -> SmtpRelay:
    return SmtpRelay(host="127.0.0.1", port=port, sender="CX <n@cx.example>", timeout_s=5)


async def test_a_relay_that_takes_the_mail_returns_when_it_accepted_it(scripted_relay) -> None:
    assert (await _relay(await scripted_relay()).send(MAIL)).tzinfo is not None


async def test_a_recipient_refused_for_good_is_final_and_its_address_stays_out_of_the_error(scripted_relay) -> None:
    port = await scripted_relay(rcpt="550 5.1.1 <ana.lima@org.example>: Recipient address rejected")

    with pytest.raises(RecipientRefused) as caught:
        await _relay(port).send(MAIL)

    assert "550" in str(caught.value) and "ana.lima" not in str(caught.value)


async def test_a_temporary_refusal_is_to_be_retried(scripted_relay) -> None:
    port = await scripted_relay(rcpt="451 4.7.1 greylisted, try again later")

    with pytest.raises(RelayUnavailable, match="451"):
        await _relay(port).send(MAIL)


async def test_a_connection_broken_after_the_data_went_out_may_have_delivered(scripted_relay) -> None:
    with pytest.raises(DeliveryUncertain, match="at data"):
        await _relay(await scripted_relay(data_end=None)).send(MAIL)


async def test_a_relay_nobody_listens_on_is_unavailable_before_anything_was_sent() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(RelayUnavailable, match="at connect"):
        await _relay(port).send(MAIL)
