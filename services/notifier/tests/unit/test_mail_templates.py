"""The mails in words: what each says, in which language, escaped, as valid HTML and plain text."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtplib.email import flatten_message

from cx_contracts import examples
from cx_contracts.explanation import Reason, reasons

from cx_notifier.adapters.smtp import build_message
from cx_notifier.adapters.templates import TEMPLATES_DIR, MailTemplates
from cx_notifier.domain.introductions import Introductions
from cx_notifier.domain.ledger import plan_run
from cx_notifier.domain.proposals import Digest, Links, OutgoingMail, host_proposal, proposed_hosts, visitor_proposal

pytestmark = pytest.mark.unit

NOW = datetime(2027, 3, 1, 10, 30, tzinfo=UTC)
LINKS = Links("https://exchange.example/")
DAY = 86400.0
HOSTILE = '<script>alert("x")</script> & <b onclick="steal()">Co</b>'


@pytest.fixture(scope="module")
def templates() -> MailTemplates:
    return MailTemplates()


def _run(make_card, *, visitor_name: str | None = None, host_names: tuple[str, ...] = ()):
    visitor = make_card("visitor", **({"name": visitor_name} if visitor_name else {}))
    hosts = [make_card("host", index=i, **({"name": host_names[i]} if i < len(host_names) else {})) for i in range(3)]
    match = examples.match_found(application_id=visitor.id, host_ids=[h.id for h in hosts])
    entries = plan_run(match, Introductions().recorded(match), period=1, domain="cx.example", now=NOW)
    return match, visitor, hosts, entries


def test_the_visitor_mail_lists_each_host_with_name_country_reasons_and_catalogue_link(
    templates, make_card, check_html
):
    _, visitor, hosts, entries = _run(make_card)
    view = visitor_proposal(entries[0], visitor, {str(h.id): h for h in hosts}, LINKS, digest_period_s=DAY)

    mail = templates.visitor_proposal(view, "en")

    assert mail.subject == f"3 hosts proposed for {visitor.organisation.name}"
    for host in hosts:
        assert host.organisation.name in mail.text and host.organisation.name in mail.html
        assert f"https://exchange.example/catalogue/hosts/{host.id}" in mail.text
        assert f'href="https://exchange.example/catalogue/hosts/{host.id}"' in mail.html
    assert "Oldenburg, Germany" in mail.text, "the country in words"
    first = mail.text.index(hosts[0].organisation.name)
    assert first < mail.text.index(hosts[1].organisation.name) < mail.text.index(hosts[2].organisation.name)
    semantic = mail.text.index("What they can teach is close to what you want to learn.", first)
    ecosystems = mail.text.index("They work in the industrial ecosystems you work in.", first)
    country = mail.text.index("They are in a country you would like to visit.", first)
    assert semantic < ecosystems < country, "highest contribution first"
    assert f"Your current list, always up to date: https://exchange.example/applications/{visitor.id}\n" in mail.text
    assert "new ones together in one e-mail, at most once a day. Hosts you have heard of already are not" in mail.text
    assert check_html(mail.html) == []


@pytest.mark.parametrize(
    ("period_s", "words"),
    [(86400, "once a day"), (3600, "once an hour"), (43200, "once every 12 hours"), (12, "once every 12 seconds")],
)
def test_the_first_list_says_how_often_at_most_new_hosts_follow(templates, make_card, period_s, words) -> None:
    _, visitor, hosts, entries = _run(make_card)
    view = visitor_proposal(entries[0], visitor, {str(h.id): h for h in hosts}, LINKS, digest_period_s=period_s)

    mail = templates.visitor_proposal(view, "en")

    assert f"at most {words}." in mail.text and f"at most {words}." in mail.html


def test_the_host_mail_names_the_visitor_organisation_and_why_the_host_fits_but_no_contact_person(
    templates, make_card, check_html
):
    _, visitor, hosts, entries = _run(make_card)
    view = host_proposal(entries[2], hosts[1], visitor, LINKS)

    mail = templates.host_proposal(view, "en")

    assert mail.subject == f"{visitor.organisation.name} (Bulgaria) may contact you for an exchange"
    assert f"Dear {hosts[1].contact.name}," in mail.text
    assert visitor.organisation.name in mail.text and "number 2 on their list" in mail.text
    assert "Your expertise is close to what they want to learn." in mail.text
    assert visitor.contact.name not in mail.text + mail.html, "the visitor's contact person stays private"
    assert visitor.contact.email not in mail.text + mail.html
    assert f"https://exchange.example/catalogue/hosts/{hosts[1].id}" in mail.html
    assert check_html(mail.html) == []


def test_markup_from_names_arrives_escaped_in_html_and_verbatim_in_text(templates, make_card, check_html):
    _, visitor, hosts, entries = _run(make_card, visitor_name=HOSTILE, host_names=(HOSTILE + " Host",))

    visitor_mail = templates.visitor_proposal(
        visitor_proposal(entries[0], visitor, {str(h.id): h for h in hosts}, LINKS, digest_period_s=DAY), "en"
    )
    host_mail = templates.host_proposal(host_proposal(entries[1], hosts[0], visitor, LINKS), "en")

    for mail in (visitor_mail, host_mail):
        assert "<script" not in mail.html and "<b " not in mail.html and 'onclick="' not in mail.html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b onclick=&#34;steal()&#34;&gt;" in mail.html
        assert HOSTILE in mail.text, "plain text shows the name as it was typed"
        assert check_html(mail.html) == []
    assert HOSTILE in visitor_mail.subject


def test_a_criterion_the_templates_do_not_know_still_gets_a_sentence(templates) -> None:
    assert templates.reason_text(Reason("shared_language", 10), "visitor", "en") == (
        "The criterion \u201cshared language\u201d adds to the fit."
    )


def test_the_digest_lists_every_held_back_proposal_in_one_mail(templates, make_card, check_html) -> None:
    host = make_card("host")
    visitors = [make_card("visitor", index=i) for i in range(3)]
    views = []
    for visitor in visitors:
        match = examples.match_found(application_id=visitor.id, host_ids=[host.id])
        entry = plan_run(match, Introductions().recorded(match), period=1, domain="d.example", now=NOW)[1]
        views.append(host_proposal(entry, host, visitor, LINKS))
    digest = Digest(
        contact_name=host.contact.name,
        recipient_kind="host",
        organisation=host.organisation,
        host_proposals=tuple(views),
        cap=20,
        period_start=datetime(2027, 3, 1, tzinfo=UTC),
        period_end=datetime(2027, 3, 2, tzinfo=UTC),
    )

    mail = templates.digest(digest, "en")

    assert mail.subject == f"3 more proposals for {host.organisation.name}"
    for visitor in visitors:
        assert visitor.organisation.name in mail.text and visitor.organisation.name in mail.html
    assert "at most 20 proposal e-mails a day" in mail.text
    assert check_html(mail.html) == []


def test_a_language_is_added_by_adding_a_folder_and_chosen_by_name(tmp_path: Path, make_card) -> None:
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "en")
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "de")
    (tmp_path / "de" / "host-proposal.subject.txt").write_text("{{ visitor.name }} wird Sie kontaktieren\n")
    templates = MailTemplates(tmp_path)
    _, visitor, hosts, entries = _run(make_card)
    view = host_proposal(entries[1], hosts[0], visitor, LINKS)

    assert templates.languages == {"en", "de"}
    assert templates.host_proposal(view, "de").subject == f"{visitor.organisation.name} wird Sie kontaktieren"
    assert templates.host_proposal(view, "lt").language == "en", "English when a language has no folder"


def test_a_language_folder_missing_a_template_is_not_offered(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "en")
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "fr")
    (tmp_path / "fr" / "digest.html").unlink()

    assert MailTemplates(tmp_path).languages == {"en"}


def test_templates_without_english_are_refused(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "de")

    with pytest.raises(RuntimeError, match="'en'"):
        MailTemplates(tmp_path)


def test_the_message_has_a_text_part_and_an_html_alternative_and_its_deterministic_message_id(check_html) -> None:
    mail = OutgoingMail(
        message_id="<run.recipient@cx.example>",
        to_name="Zoë Ünal",
        to_address="zoe@org.example",
        subject="2 hosts proposed for Ärzte & Co",
        text="Grüße\n",
        language="en",
        html="<!DOCTYPE html><html><head><title>t</title></head><body><p>Grüße</p></body></html>\n",
    )

    raw = flatten_message(build_message(mail, sender="ClusterXchange <n@cx.example>", date=NOW))
    parsed = message_from_bytes(raw, policy=policy.default)

    assert raw.isascii(), "quoted-printable keeps the message 7-bit for any relay"
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content().rstrip() == "Grüße"
    assert "<p>Grüße</p>" in parsed.get_body(("html",)).get_content()
    assert parsed["Message-ID"] == "<run.recipient@cx.example>"
    assert parsed["Subject"] == "2 hosts proposed for Ärzte & Co"
    assert parsed["To"].addresses[0].addr_spec == "zoe@org.example"
    assert parsed["To"].addresses[0].display_name == "Zoë Ünal"
    assert parsed["Auto-Submitted"] == "auto-generated"


def test_reasons_of_the_example_explanation_read_in_the_order_of_their_weight() -> None:
    explanation = examples.match_found().matches[0].explanation

    assert [r.criterion for r in reasons(explanation)] == ["semantic", "ecosystems", "preferred_country"]


def test_a_visitors_digest_names_its_new_hosts_best_fit_first_and_points_to_the_current_list(
    templates, make_card, check_html
) -> None:
    visitor = make_card("visitor")
    hosts = [make_card("host", index=i, name=f"Host Cluster {i}") for i in range(3)]
    first = examples.match_found(application_id=visitor.id, host_ids=[hosts[0].id])
    # Two later runs, each bringing a host new to the visitor; the second one fits better (rank 1).
    runs = [
        examples.match_found(application_id=visitor.id, host_ids=[hosts[0].id, hosts[1].id], trigger="new-host"),
        examples.match_found(application_id=visitor.id, host_ids=[hosts[2].id, hosts[0].id], trigger="new-host"),
    ]
    introductions = Introductions().recorded(first)
    members = []
    for run in runs:
        introductions = introductions.recorded(run)
        members.append(plan_run(run, introductions, period=1, domain="d.example", now=NOW)[0])
    digest = Digest(
        contact_name=visitor.contact.name,
        recipient_kind="visitor",
        organisation=visitor.organisation,
        new_hosts=tuple(proposed_hosts(members, {str(h.id): h for h in hosts}, LINKS)),
        matches_page=LINKS.matches_page(str(visitor.id)),
        cap=20,
        period_start=datetime(2027, 3, 1, tzinfo=UTC),
        period_end=datetime(2027, 3, 2, tzinfo=UTC),
    )

    mail = templates.digest(digest, "en")

    assert mail.subject == f"2 new hosts for {visitor.organisation.name}"
    assert hosts[0].organisation.name not in mail.text, "a host the visitor heard of is not repeated"
    assert mail.text.index("Host Cluster 2") < mail.text.index("Host Cluster 1"), "best fit first"
    for host in hosts[1:]:
        assert f'href="https://exchange.example/catalogue/hosts/{host.id}"' in mail.html
    assert (
        mail.text.count(f"Your current list, always up to date: https://exchange.example/applications/{visitor.id}\n")
        == 1
    )
    assert "between 2027-03-01 00:00 UTC and 2027-03-02 00:00 UTC" in mail.text
    assert check_html(mail.html) == []


def test_a_language_folder_translates_the_shared_reasons_and_falls_back_to_english_for_the_rest(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "en")
    shutil.copytree(TEMPLATES_DIR / "en", tmp_path / "de")
    phrases = {"criteria": {"visitor": {"semantic": "Was sie lehren, liegt nahe an dem, was Sie lernen wollen."}}}
    (tmp_path / "de" / "phrases.json").write_text(json.dumps(phrases, ensure_ascii=False), "utf-8")
    templates = MailTemplates(tmp_path)

    assert templates.reason_text(Reason("semantic", 60), "visitor", "de").startswith("Was sie lehren")
    assert templates.reason_text(Reason("topics", 20), "visitor", "de") == Reason("topics", 20).sentence("visitor")
    assert templates.reason_text(Reason("semantic", 60), "visitor", "en") == Reason("semantic", 60).sentence("visitor")
