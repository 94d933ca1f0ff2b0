"""The HTTP API: every command and query of the ledger over Flask, marshmallow and OpenAPI.

``create_app`` builds the application on the services of one database (``api.services``,
the composition root): the server (``budget-ledger serve``) gives it the database, the tests
may hand it the services they made with ``bootstrap`` instead.

Importing the package loads no web framework: the command line uses its composition root
(``api.services``) and its problem types (``api.errors``) without Flask, marshmallow or
jinja2, which load with the application (``api.app``) when ``create_app`` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(database: str | None = None, **options: Any) -> Flask:
    """The application (``api.app.create_app``, which names the options and says what they
    do)."""
    from api.app import create_app as create

    return create(database, **options)
