"""`cx-dev-token`: print an access token of the development issuer, which the services accept.

    cx-dev-token --organisation "Test Cluster"
    cx-dev-token --organisation "Test Cluster" --email anna@test-cluster.example
    cx-dev-token --organisation "ESCP-4x office" --role manager --partnership escp-4x-03

It signs with the issuer's key file (CX_DEV_ISSUER_KEY_FILE, made on first use), so the issuer that `make run`
started publishes the key that verifies it.
"""

from __future__ import annotations

import argparse
import sys

from cx_dev_issuer.identities import ROLES, DevIdentity, IdentityError, access_token
from cx_dev_issuer.keys import signing_key
from cx_dev_issuer.settings import Settings


def parser(settings: Settings) -> argparse.ArgumentParser:
    """The command's options, with the settings' defaults."""
    commands = argparse.ArgumentParser(prog="cx-dev-token", description=__doc__.splitlines()[0])
    commands.add_argument("--organisation", required=True, help="the organisation's name; its id is a slug of it")
    commands.add_argument("--email", help="the person's address (default contact@<slug>.example), verified")
    commands.add_argument("--unverified-email", action="store_true", help="mark the address as not verified")
    commands.add_argument("--role", choices=ROLES, default="member")
    commands.add_argument("--partnership", help="with --role manager: the id of the partnership it manages")
    commands.add_argument("--audience", default=settings.audience)
    commands.add_argument("--issuer", default=settings.issuer, help="the `iss` (default: %(default)s)")
    commands.add_argument("--expires-in", type=int, default=settings.token_lifetime_s, metavar="SECONDS")
    return commands


def main(argv: list[str] | None = None) -> int:
    """Print one token on standard output."""
    settings = Settings()
    args = parser(settings).parse_args(argv)
    if args.expires_in < 1:
        print("cx-dev-token: --expires-in must be at least 1 second", file=sys.stderr)
        return 2
    try:
        identity = DevIdentity.of(
            args.organisation,
            email=args.email,
            role=args.role,
            partnership=args.partnership,
            email_verified=not args.unverified_email,
        )
    except IdentityError as error:
        print(f"cx-dev-token: --{error.field}: {error}", file=sys.stderr)
        return 2
    key = signing_key(settings.key_file)
    print(access_token(key, identity, issuer=args.issuer, audience=args.audience, lifetime_s=args.expires_in))
    return 0


if __name__ == "__main__":
    sys.exit(main())
