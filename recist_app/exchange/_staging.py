"""All-or-nothing output: write into a hidden staging folder, then move in.

An export either leaves every file it promised in the output folder or none: files
are written to a staging folder created next to the target (same file system, so
the final moves are renames), and only moved into place once all were written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from recist_app.exchange.errors import ExchangeError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["staged_output"]


def _prepare(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExchangeError(
            f"{out_dir}: cannot create the output folder: {error.strerror}"
        ) from None
    if not out_dir.is_dir():
        raise ExchangeError(f"{out_dir}: not a folder")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ExchangeError(f"{out_dir}: the output folder is not writable")


@contextlib.contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield a staging folder; on success move its files into ``out_dir``.

    Files already in ``out_dir`` with the same names are replaced. On any error the
    staging folder is removed and ``out_dir`` is left as it was.

    Raises
    ------
    ExchangeError
        ``out_dir`` cannot be created or written.
    """
    _prepare(out_dir)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    except OSError as error:
        raise ExchangeError(f"{out_dir}: cannot write: {error.strerror}") from None
    try:
        yield staging
        moved: list[Path] = []
        for source in sorted(staging.rglob("*")):
            if source.is_dir():
                continue
            target = out_dir / source.relative_to(staging)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                source.replace(target)
            except OSError as error:
                for path in moved:
                    path.unlink(missing_ok=True)
                raise ExchangeError(
                    f"{target}: cannot write: {error.strerror}"
                ) from None
            moved.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
