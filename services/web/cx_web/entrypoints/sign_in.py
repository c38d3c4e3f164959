"""Sign-in and sign-out: the issuer's authorisation-code flow (with PKCE), and a session that keeps its result.

`GET /sign-in` is a link, not a form: the redirect to the issuer is then a navigation the site's CSP
(`form-action 'self'`) does not govern, and the state, nonce and PKCE verifier protect the flow itself.
Signing out is a form (POST with the CSRF token), so no other site can sign a person out.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cx_web.adapters.issuer import OpenIdIssuer, SignInFailed
from cx_web.entrypoints.rendering import page, posted_form, see_other
from cx_web.entrypoints.session import end_session, flash, local_path, start_session

NEXT = "sign_in_next"
CALLBACK_PATH = "/auth/callback"


def sign_in_router(issuer: OpenIdIssuer, public_url: str) -> APIRouter:
    """GET /sign-in, GET /auth/callback, POST /sign-out."""
    router = APIRouter()
    redirect_uri = public_url.rstrip("/") + CALLBACK_PATH

    @router.get("/sign-in", name="sign_in")
    async def sign_in(request: Request, next: str = "/") -> Response:
        request.session[NEXT] = local_path(next)
        try:
            return await issuer.sign_in(request, redirect_uri)
        except SignInFailed as error:
            return page(request, "sign_in_failed.html", status_code=503, reason=str(error))

    @router.get(CALLBACK_PATH, name="signed_in")
    async def callback(request: Request) -> Response:
        target = local_path(request.session.get(NEXT))
        try:
            signed_in = await issuer.complete(request)
        except SignInFailed as error:
            return page(request, "sign_in_failed.html", status_code=400, reason=str(error))
        start_session(request, signed_in.person, signed_in.access_token, signed_in.expires_at)
        flash(request, f"Signed in as {signed_in.person.display_name}.")
        return see_other(target)

    @router.post("/sign-out", response_class=HTMLResponse)
    async def sign_out(request: Request) -> Response:
        await posted_form(request)
        end_session(request)
        flash(request, "You are signed out.")
        return see_other("/")

    return router
