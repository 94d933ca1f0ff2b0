"""The web pages: server-rendered HTML (Jinja2) for people who sign in with a name and a
password, served by the same application as the API (``budget-ledger serve``).

Pages read through the same code as the API's JSON (``projections.progress_document``) and
check the same role and scope (``api.auth``): a person acts as a token of the same name, role
and scope. Each page keeps its whole state in its URL, so it can be bookmarked and sent.
"""

from __future__ import annotations

from api.web import errors, lines, movement, over_time, writes
from api.web.views import blp

__all__ = ["blp", "errors", "lines", "movement", "over_time", "writes"]
