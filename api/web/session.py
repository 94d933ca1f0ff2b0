"""Signing in to the pages: the session cookie, the CSRF token every form carries, and the
headers every page is sent with (a Content-Security-Policy without inline scripts).

A signed-in person's requests are authenticated here, before the API's bearer tokens are
looked at (``api.auth.authenticate`` calls ``person_from_cookie``); the person then acts as
a token of the same name, role and scope, through the same checks.
"""

from __future__ import annotations

import hmac
import secrets

from flask import current_app, g, request
from werkzeug.wrappers import Response as AnyResponse

from api.auth import Forbidden
from api.people import PeopleStore
from api.services import Services

SESSION_COOKIE = "budget_ledger_session"
# Before sign-in there is no session to hold a CSRF token: the sign-in form's token is also
# set as a cookie and the two must match (the double-submit pattern), so a page elsewhere
# cannot sign a browser in under someone else's name.
LOGIN_COOKIE = "budget_ledger_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class CsrfRefused(Forbidden):
    """A form (or a write) sent with a session cookie but without its CSRF token: 403,
    nothing done."""


def people(services: Services) -> PeopleStore:
    found: PeopleStore | None = getattr(services._local, "people", None)
    if found is None:
        found = PeopleStore(services.store)
        services._local.people = found
    return found


def person_from_cookie(services: Services) -> bool:
    """Authenticate the request by its session cookie, if it has a live one: ``g.token`` is
    the person as a token and ``g.web_session`` the session. A write must carry the
    session's CSRF token (form field or header). False: no live session."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return False
    idle_s: float = current_app.config["WEB_IDLE_TIMEOUT_S"]
    session = people(services).session(secret, idle_timeout_s=idle_s)
    if session is None:
        g.session_ended = True
        return False
    if request.method in UNSAFE_METHODS:
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            raise CsrfRefused(
                "the form was sent without its security token (CSRF) or with a wrong one; "
                "reload the page and send it again"
            )
    g.token = session.person.as_token()
    g.web_session = session
    return True


def login_csrf() -> str:
    """The sign-in form's CSRF token: the cookie's if the browser has one, else a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)


def login_csrf_valid() -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    sent = request.form.get(CSRF_FIELD, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


def set_cookie(response: AnyResponse, name: str, value: str) -> None:
    """HttpOnly, SameSite=Lax (a link from an e-mail still opens the page signed in; a form
    posted from elsewhere carries no cookie), Secure when served over TLS (as a trusted
    proxy's X-Forwarded-Proto tells, see ``create_app``) or when the server is told to."""
    secure = request.is_secure or bool(current_app.config["WEB_SECURE_COOKIES"])
    response.set_cookie(name, value, httponly=True, samesite="Lax", secure=secure, path="/")


def page_headers(response: AnyResponse) -> AnyResponse:
    """Every page: no inline script or style may run, no framing, nothing cached (figures
    of the treasury stay off shared computers' disks)."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response
