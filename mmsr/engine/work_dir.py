"""Find out before training whether the work dir can be written."""
from __future__ import annotations

import os
import tempfile

from ..errors import ConfigError


def check_work_dir(work_dir: str) -> None:
    """Create ``work_dir`` (as the runner would) and write a file in it; raise a
    :class:`~mmsr.errors.ConfigError` saying what to change when either fails."""
    try:
        os.makedirs(work_dir, exist_ok=True)
        with tempfile.TemporaryFile(dir=work_dir):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f'the work dir {work_dir} cannot be written ({reason}); pass --work-dir with a '
            'writable folder (or set work_dir in the config)') from None
