from . import safe_checkpoint
from .hooks import RNGStateHook

__all__ = ['safe_checkpoint', 'RNGStateHook']
