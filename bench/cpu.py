"""CPU seconds spent by a process tree, read from /proc (Linux): a figure per request that
the other work on a shared machine disturbs far less than wall-clock throughput; and the
loopback sockets of a server that a benchmark or test starts (a free port, who listens)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psycopg

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and of its children it has reaped)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    # After the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based
    # from the state field.
    ticks = sum(int(value) for value in fields[11:15])
    return int(fields[1]), ticks / TICKS_PER_S


def tree_cpu_s(root: int) -> float:
    """CPU seconds of ``root`` and every live descendant (and those they reaped); 0 for
    ``root`` 0, which callers pass for a process they cannot see (0 is the parent of
    every process of the machine: it would count them all)."""
    if root <= 0:
        return 0.0
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None:
                parents[int(entry)], seconds[int(entry)] = found
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(seconds.get(pid, 0.0) for pid in tree)


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's main process, if it runs on this machine and we may read its
    data directory (None otherwise: then its CPU is not counted)."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    try:
        return int((Path(str(row[0])) / "postmaster.pid").read_text().split()[0]) if row else None
    except (OSError, ValueError):
        return None


def free_port() -> int:
    """A loopback port nobody listens on now (for a server a test or benchmark starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_sockets(port: int, state: str) -> list[str]:
    """Inodes of the IPv4 sockets whose local port is ``port``, in ``state`` (/proc/net/tcp's
    codes: 01 established, 0A listening). OSError where that file does not exist."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.append(fields[9])
    return found


def listening_sockets(port: int) -> int | None:
    """How many IPv4 sockets listen on ``port`` (one per server worker with SO_REUSEPORT);
    None where /proc/net/tcp does not exist."""
    try:
        return len(port_sockets(port, "0A"))
    except OSError:
        return None
