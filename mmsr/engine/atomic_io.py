"""Write files so that a kill at any moment leaves either the old file or the new one."""
from __future__ import annotations

import os

PARTIAL_SUFFIX = '.partial'


def partial_path(path: str) -> str:
    """Where :func:`atomic_write` stages ``path``: the same folder, so the rename is atomic."""
    return path + PARTIAL_SUFFIX


def publish(staged: str, path: str) -> None:
    """Flush ``staged`` to disk and rename it to ``path`` (atomic on POSIX and Windows)."""
    with open(staged, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(staged, path)
    if hasattr(os, 'O_DIRECTORY'):  # make the rename itself durable
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path``: to ``path + '.partial'`` first, then rename."""
    staged = partial_path(path)
    with open(staged, 'wb') as f:
        f.write(data)
    publish(staged, path)
