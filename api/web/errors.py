"""Refusals on the pages: the same status and the same one-line message as the API's
problem details (one place decides both), shown as a page; a page asked for without a
session goes to the sign-in page and comes back after."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Response, g, redirect, render_template, request
from werkzeug.wrappers import Response as AnyResponse

from api.web.session import page_headers


def wants_page() -> bool:
    """Whether this request is a page's (its answer is HTML, not problem+json)."""
    from api.web.movement import asks_for_page

    return asks_for_page()


def error_page(problem: AnyResponse) -> AnyResponse:
    """The API's problem answer as a page: its status, its detail, its headers."""
    try:
        detail = json.loads(problem.get_data()).get("detail", "")
    except ValueError:
        detail = ""
    page = Response(render_template("error.html", message=detail), status=problem.status_code)
    for name in ("Retry-After", "Allow"):
        if name in problem.headers:
            page.headers[name] = problem.headers[name]
    return page_headers(page)


def to_sign_in() -> AnyResponse:
    # Back to the page after signing in; a form posted with an ended session is not sent
    # again (the sign-in would end on a GET of its address).
    query = {"next": request.full_path.rstrip("?")} if request.method == "GET" else {}
    if g.get("session_ended"):
        query["ended"] = "1"
    if request.args.get("lang") == "en":
        query["lang"] = "en"
    return page_headers(redirect("/login?" + urlencode(query), code=303))
