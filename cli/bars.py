"""Progress bars for long work (import, export, verify, check, projections rebuild, demo):
one helper, ``progress_bar``, that every command uses the same way.

The bar goes to stderr, and only when stderr is a terminal and ``--quiet`` was not given:
piped or captured output, logs and scripts see nothing of it. The work itself (ledger/,
projections/) knows nothing of rich or click: it is handed a plain callback, ``Bar.advance``
(n more done) or ``Bar.reach`` (done so far), and calls it a page or a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

F = TypeVar("F", bound=Callable[..., Any])


class Bar:
    """How far the work has got, out of ``total`` (None: not known). Without a display
    (quiet, or stderr not a terminal) it only counts."""

    def __init__(self, total: int | None, progress: Progress | None = None) -> None:
        self.done = 0
        self.total = total
        self._progress = progress
        self._task: TaskID | None = None

    def advance(self, count: int = 1) -> None:
        """``count`` more done."""
        self.reach(self.done + count)

    def reach(self, done: int, total: int | None = None) -> None:
        """``done`` so far (out of ``total``, when it changes). A total that turns out too
        small (a file holds fewer rows than its line ends count) grows to what was done."""
        assert done >= 0, done
        self.done = done
        if total is not None:
            self.total = total
        if self.total is not None and self.done > self.total:
            self.total = self.done
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.done, total=self.total)

    def finish(self) -> None:
        """All done: the bar ends full, whatever the total was estimated at."""
        self.reach(self.done, self.done)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(description: str, total: int | None, *, unit: str, quiet: bool) -> Iterator[Bar]:
    """A bar on stderr showing ``description``, done/total ``unit``, the percentage and the
    time left, while the block runs; nothing when ``quiet`` or stderr is not a terminal. The
    bar disappears when the block ends: the command's own result follows."""
    console = stderr_console()
    if quiet or not console.is_terminal:
        yield Bar(total)
        return
    # Imported when a bar is shown: a command that shows none need not load it.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    # What the command prints to stdout meanwhile stays on stdout (rich would move it to the
    # bar's console, stderr): stdout may be a file while stderr is the terminal.
    with Progress(*columns, console=console, transient=True, redirect_stdout=False) as progress:
        bar = Bar(total, progress)
        bar._task = progress.add_task(description, total=total)
        yield bar
        bar.finish()


def quiet_option(func: F) -> F:
    return click.option(
        "--quiet",
        is_flag=True,
        help="No progress bar (it shows only when stderr is a terminal).",
    )(func)
