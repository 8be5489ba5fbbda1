"""What the installed torch can do, detected by feature, never by comparing version strings.

mmsr supports torch 2.1 up to the newest release; the few calls whose form changed in between
go through here.
"""
import torch

#: ``torch.serialization.add_safe_globals`` (torch >= 2.4): an allow-list for the
#: ``weights_only`` unpickler. Without it, checkpoints load as that torch's own default does.
HAS_SAFE_GLOBALS: bool = hasattr(torch.serialization, 'add_safe_globals')


def _autocast_query_takes_device() -> bool:
    try:
        torch.is_autocast_enabled('cpu')
    except TypeError:  # torch < 2.4: one query per device type, no argument
        return False
    return True


_AUTOCAST_QUERY_TAKES_DEVICE = _autocast_query_takes_device()


def autocast_enabled(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` ('cpu', 'cuda', ...), on any torch."""
    if _AUTOCAST_QUERY_TAKES_DEVICE:
        return torch.is_autocast_enabled(device_type)
    query = getattr(torch, f'is_autocast_{device_type}_enabled', None)
    if query is not None:  # is_autocast_cpu_enabled, is_autocast_xpu_enabled, ...
        return query()
    return torch.is_autocast_enabled()  # the CUDA query


__all__ = ['HAS_SAFE_GLOBALS', 'autocast_enabled']
