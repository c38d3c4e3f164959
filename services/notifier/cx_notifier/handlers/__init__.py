"""The notifier's use cases: `mails` (plan, send once, resume, digests), `composing` (what each mail says, in
the recipient's words), and `interfaces` (what they work through: ledger, contacts, relay, templates, outbox)."""
