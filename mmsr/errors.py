"""Errors mmsr raises for input a user gave (configs, paths, checkpoints, tensors).

Each message says what to change. The repo's tools print an :class:`MMSRError` as one line,
without a traceback; in Python they are ordinary ``ValueError`` / ``FileNotFoundError``
subclasses.
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
