"""The development issuer's HTTP side: discovery, keys, the development sign-in form, codes and tokens.

GET  /.well-known/openid-configuration   issuer, endpoints, what it supports
GET  /jwks.json                          the public signing key, with its kid
GET  /authorize                          the development sign-in form (organisation, e-mail, role, partnership)
POST /authorize                          the form submitted: a redirect to redirect_uri?code=...&state=...
POST /token                              a code (and its PKCE verifier) for an access token and an ID token
GET  /logout                             sign-out: back to post_logout_redirect_uri (loopback only)
"""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cx_contracts.vocabulary import PARTNERSHIPS

from cx_dev_issuer import __version__
from cx_dev_issuer.authorisation import (
    AuthorisationCodes,
    AuthorisationError,
    AuthorisationRequest,
    GrantRefused,
    RedirectRefused,
    allowed_redirect,
)
from cx_dev_issuer.identities import DevIdentity, IdentityError, access_token, id_token
from cx_dev_issuer.keys import ALGORITHM, SigningKey, signing_key
from cx_dev_issuer.settings import Settings

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def discovery_document(settings: Settings) -> dict[str, Any]:
    """The OpenID Provider metadata (OpenID Connect Discovery 1.0) of the development issuer."""
    issuer = settings.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks.json",
        "end_session_endpoint": f"{issuer}/logout",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid", "email", "profile"],
        "claims_supported": [
            "sub",
            "email",
            "email_verified",
            "organisation",
            "organisation_name",
            "role",
            "partnership",
        ],
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    """The development issuer on `settings`; its key is made now if it does not exist yet."""
    settings = settings or Settings()
    key = signing_key(settings.key_file)
    codes = AuthorisationCodes(settings.code_lifetime_s)
    app = FastAPI(title="ClusterXchange development issuer", version=__version__, docs_url=None, redoc_url=None)
    # The pages may exchange their code in the browser (a public client): these answers hold no cookie.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["*"])

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/.well-known/openid-configuration")
    async def configuration() -> dict[str, Any]:
        return discovery_document(settings)

    @app.get("/jwks.json")
    async def jwks() -> dict[str, Any]:
        return {"keys": [key.public_jwk]}

    def checked_or_refused(parameters: dict[str, str]) -> AuthorisationRequest | Response:
        # The sign-in request, or the answer to one that cannot be served: the issuer's page or an error redirect.
        try:
            return AuthorisationRequest.checked(parameters, settings.redirect_hosts)
        except RedirectRefused as refused:
            return HTMLResponse(_page("Sign-in refused", f"<p>{html.escape(str(refused))}</p>"), status_code=400)
        except AuthorisationError as error:
            return _error_redirect(parameters, error)

    @app.get("/authorize")
    async def authorize(request: Request) -> Response:
        checked = checked_or_refused(dict(request.query_params))
        if isinstance(checked, Response):
            return checked
        return HTMLResponse(_sign_in_form(checked), headers=NO_STORE)

    @app.post("/authorize")
    async def signed_in(
        request: Request,
        organisation: Annotated[str, Form()] = "",
        email: Annotated[str, Form()] = "",
        role: Annotated[str, Form()] = "member",
        partnership: Annotated[str, Form()] = "",
    ) -> Response:
        checked = checked_or_refused({name: str(value) for name, value in (await request.form()).items()})
        if isinstance(checked, Response):
            return checked
        try:
            identity = DevIdentity.of(
                organisation, email=email, role=role, partnership=partnership if role == "manager" else None
            )
        except IdentityError as error:
            typed = {"organisation": organisation, "email": email, "role": role, "partnership": partnership}
            return HTMLResponse(_sign_in_form(checked, typed, error), status_code=400, headers=NO_STORE)
        return RedirectResponse(checked.answer(code=codes.issue(checked, identity)), status_code=303)

    @app.post("/token")
    async def token(
        grant_type: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        redirect_uri: Annotated[str, Form()] = "",
        client_id: Annotated[str, Form()] = "",
        code_verifier: Annotated[str, Form()] = "",
    ) -> JSONResponse:
        if grant_type != "authorization_code":
            return _token_error("unsupported_grant_type", "Only grant_type=authorization_code is supported.")
        if not (code and redirect_uri and client_id and code_verifier):
            return _token_error("invalid_request", "Send code, redirect_uri, client_id and code_verifier.")
        try:
            grant = codes.redeem(code, client_id=client_id, redirect_uri=redirect_uri, code_verifier=code_verifier)
        except GrantRefused as refused:
            return _token_error("invalid_grant", str(refused))
        return JSONResponse(_tokens(key, settings, grant.identity, grant.request), headers=NO_STORE)

    @app.get("/logout")
    async def logout(post_logout_redirect_uri: str = "") -> Response:
        if post_logout_redirect_uri:
            try:
                return RedirectResponse(allowed_redirect(post_logout_redirect_uri, settings.redirect_hosts), 303)
            except RedirectRefused as refused:
                return HTMLResponse(_page("Signed out", f"<p>{html.escape(str(refused))}</p>"), status_code=400)
        return HTMLResponse(_page("Signed out", "<p>You are signed out of the development issuer.</p>"))

    app.state.settings = settings
    return app


def _tokens(
    key: SigningKey, settings: Settings, identity: DevIdentity, request: AuthorisationRequest
) -> dict[str, Any]:
    lifetime = settings.token_lifetime_s
    return {
        "access_token": access_token(
            key, identity, issuer=settings.issuer, audience=settings.audience, lifetime_s=lifetime, scope=request.scope
        ),
        "id_token": id_token(
            key, identity, issuer=settings.issuer, client_id=request.client_id, nonce=request.nonce, lifetime_s=lifetime
        ),
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": request.scope,
    }


def _token_error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=400, headers=NO_STORE)


def _error_redirect(parameters: dict[str, str], error: AuthorisationError) -> Response:
    # The redirect URI was checked before any error is sent there (RedirectRefused comes first).
    request = AuthorisationRequest(
        parameters["client_id"], parameters["redirect_uri"], "", parameters.get("state") or None, None, ""
    )
    return RedirectResponse(request.answer(error=error.error, error_description=error.description), status_code=303)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f7fa; color: #1b1b1b; }
main { max-width: 32rem; margin: 2rem auto; padding: 1.5rem; background: #fff; border: 1px solid #c8ced6; }
h1 { font-size: 1.4rem; margin-top: 0; }
.warning { background: #fff4ce; border-left: 4px solid #8a6d00; padding: .5rem .75rem; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input, select { width: 100%; box-sizing: border-box; font: inherit; padding: .5rem; margin-top: .25rem;
  border: 1px solid #5c6670; }
input:focus, select:focus, button:focus { outline: 3px solid #004494; outline-offset: 2px; }
.hint { color: #404b57; font-size: .9rem; margin: .25rem 0 0; }
.error { color: #a4161a; font-weight: 600; margin: .25rem 0 0; }
button { margin-top: 1.5rem; font: inherit; padding: .6rem 1.2rem; background: #004494; color: #fff; border: 0; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · ClusterXchange development issuer</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>\n"
    )


def _sign_in_form(
    request: AuthorisationRequest, typed: dict[str, str] | None = None, error: IdentityError | None = None
) -> str:
    typed = typed or {}

    def problem(field: str) -> tuple[str, str]:
        # An error sits beside its field and is announced with it (aria-describedby, aria-invalid).
        if error is None or error.field != field:
            return "", ""
        return (
            f' aria-invalid="true" aria-describedby="{field}-error"',
            f'<p class="error" id="{field}-error">{html.escape(str(error))}</p>',
        )

    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in request.parameters().items()
    )
    role = typed.get("role", "member")
    roles = "".join(
        f'<option value="{value}"{" selected" if value == role else ""}>{label}</option>'
        for value, label in (("member", "Member of the organisation"), ("manager", "Manager of a partnership"))
    )
    chosen = typed.get("partnership", "")
    partnerships = '<option value="">(none: not a manager)</option>' + "".join(
        f'<option value="{html.escape(pid)}"{" selected" if pid == chosen else ""}>{html.escape(name)} ({pid})</option>'
        for pid, name in PARTNERSHIPS.items()
    )
    organisation_invalid, organisation_error = problem("organisation")
    email_invalid, email_error = problem("email")
    role_invalid, role_error = problem("role")
    partnership_invalid, partnership_error = problem("partnership")
    body = f"""
<p class="warning" role="note">Development sign-in: any organisation may be typed here. This issuer runs only
on this machine and is never used in production.</p>
<p>Signing in to <strong>{html.escape(request.client_id)}</strong>.</p>
<form method="post" action="/authorize">
{hidden}
<label for="organisation">Organisation</label>
<input id="organisation" name="organisation" autocomplete="organization" required
  value="{html.escape(typed.get("organisation", ""))}"{organisation_invalid}>
<p class="hint">Its name; the same name always signs in as the same organisation.</p>{organisation_error}
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="email"
  value="{html.escape(typed.get("email", ""))}"{email_invalid}>
<p class="hint">Verified by this issuer; empty: contact@&lt;organisation&gt;.example.</p>{email_error}
<label for="role">Role</label>
<select id="role" name="role"{role_invalid}>{roles}</select>{role_error}
<label for="partnership">Partnership</label>
<select id="partnership" name="partnership"{partnership_invalid}>{partnerships}</select>
<p class="hint">For a manager: the partnership it manages.</p>{partnership_error}
<button type="submit">Sign in</button>
</form>"""
    return _page("Development sign-in", body)
