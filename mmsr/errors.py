"""Errors mmsr raises for input a user gave (configs, paths, checkpoints, tensors).

Each message says what to change. The repo's tools print an :class:`MMSRError` as one line,
without a traceback; in Python they are ordinary ``ValueError`` / ``FileNotFoundError`` /
``ImportError`` subclasses.
"""


class MMSRError(Exception):
    """Base class of the errors mmsr explains to the user."""


class ConfigError(MMSRError, ValueError):
    """A setting (config value or argument) that cannot work, e.g. a stage the backbone lacks."""


class InputError(MMSRError, ValueError):
    """A tensor given to a module at run time that it cannot take (rank, channels, dtype)."""


class CheckpointMismatchError(MMSRError, ValueError):
    """A checkpoint saved with other settings than the model it is loaded into."""


class DataNotFoundError(MMSRError, FileNotFoundError):
    """A dataset folder or file named by a config does not exist."""


class UnsupportedEnvironmentError(MMSRError, ImportError):
    """A Python, torch or setuptools that mmsr (or the mmengine it runs on) cannot work with."""


class DataError(MMSRError, ValueError):
    """A dataset file that exists but cannot be used: an unreadable or empty image, a label map
    of the wrong size."""


def error_message(error: BaseException) -> str:
    """The one-line message of ``error``, also when a dataloader worker raised it: torch then
    re-raises it in the main process with the worker's traceback in front of the message."""
    text = str(error)
    if 'Original Traceback' in text:
        last = [line for line in text.splitlines() if line.strip()][-1]
        name = f'{type(error).__module__}.{type(error).__qualname__}: '
        text = last[len(name):] if last.startswith(name) else last.split(': ', 1)[-1]
    return text
