from . import safe_checkpoint

__all__ = ['safe_checkpoint']
