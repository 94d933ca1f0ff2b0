"""``projections follow`` stops when told to, as a service manager or a terminal tells it:
SIGTERM (systemd's stop) or SIGINT (Ctrl-C), even when it was started with SIGINT ignored
(as a shell starts a background job, which the child would otherwise inherit)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

BUDGET_LEDGER = str(Path(sys.executable).parent / "budget-ledger")


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_follower_stops_when_told(tmp_path: Path, sent: signal.Signals) -> None:
    database = str(tmp_path / "ledger.sqlite3")
    subprocess.run([BUDGET_LEDGER, "init", "--database", database], check=True, capture_output=True)
    follower = subprocess.Popen(
        [BUDGET_LEDGER, "projections", "follow", "--wait", "0.2", "--database", database],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ignore_sigint,
    )
    try:
        assert follower.stderr is not None
        assert "following the event log" in follower.stderr.readline()
        follower.send_signal(sent)
        assert follower.wait(timeout=15) == 0
        assert "stopping" in follower.stderr.read()
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
        if follower.stderr is not None:
            follower.stderr.close()
