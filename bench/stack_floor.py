"""The floor under the API's figures: Flask, marshmallow and gunicorn with no ledger.

``GET /balances`` here validates its query with the API's own schema and shapes the same
answer as the API's balance read (a commune's four lines) with the API's own response schema,
from memory: no token, no database. ``bench/api.py`` serves it with ``api.server.serve_app``,
the same gunicorn settings as ``budget-ledger serve``, and drives it with the same clients
before the real scenarios, so every run prints what the stack alone reaches on that machine at
that moment. Nothing the ledger does can make the API faster than this.

Usage (bench/api.py starts it itself):
  .venv/bin/python bench/stack_floor.py --port 8099 [--workers N] [--threads T]
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import schemas  # noqa: E402
from api.server import serve_app  # noqa: E402
from ledger.domain.values import today_in_vietnam  # noqa: E402
from ledger.storage.settings import THREADS_PER_WORKER  # noqa: E402


def create_floor_app() -> Flask:
    app = Flask("stack_floor")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    query, answer = schemas.BalanceQuerySchema(), schemas.BalancesSchema()

    @app.get("/balances")
    def balances() -> Response:
        args = query.load(request.args)
        holder = args.get("holder", "20000")
        rows: list[dict[str, Any]] = [
            {
                "program": program,
                "kind": kind,
                "source": "NSTW",
                "year": 2025,
                "holder": holder,
                "project": None,
                "assigned_vnd": 1000 * 10**9,
                "allocated_on_vnd": 0,
                "disbursed_vnd": 0,
                "lapsed_vnd": 0,
                "passed_on_vnd": 0,
                "received_vnd": 0,
                "available_vnd": 1000 * 10**9,
                "extended_vnd": 0,
                "deadline": date(2026, 1, 31),
            }
            for program in ("GNBV", "NTM")
            for kind in ("DTPT", "SN")
        ]
        as_of = args.get("as_of") or today_in_vietnam()
        body = {"as_of": as_of, "known_at": None, "balances": rows, "next": None}
        return jsonify(answer.dump(body))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=THREADS_PER_WORKER)
    args = parser.parse_args()
    serve_app(
        create_floor_app, host=args.host, port=args.port, workers=args.workers, threads=args.threads
    )


if __name__ == "__main__":
    main()
