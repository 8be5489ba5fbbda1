"""Building a config's model and its baseline (the same config with every SR block removed)."""
from __future__ import annotations

import copy
import functools
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from ..errors import ConfigError
from ..models.layers import SRBlock
from ..utils.config import detect_codebase, iter_dicts


def remove_sr(model_cfg: dict) -> dict:
    """A deep copy of ``model_cfg`` with ``sr_cfg=None`` on every plugged backbone, which is then
    exactly its upstream class."""
    model_cfg = copy.deepcopy(model_cfg)
    for _, node in iter_dicts(model_cfg):
        if 'sr_cfg' in node:
            node['sr_cfg'] = None
    return model_cfg


def build_model(cfg: Config, model_cfg: Optional[dict] = None) -> nn.Module:
    """Build ``model_cfg`` (default ``cfg.model``) in the registry of the config's codebase."""
    codebase = detect_codebase(cfg)
    model_cfg = copy.deepcopy(dict(cfg.model if model_cfg is None else model_cfg))
    with DefaultScope.overwrite_default_scope(codebase):
        if codebase == 'mmseg':
            from mmseg.registry import MODELS
        else:
            from mmpretrain.registry import MODELS
        return MODELS.build(model_cfg)


def build_sr_and_baseline(cfg: Config) -> Tuple[nn.Module, nn.Module]:
    """``(model, baseline)`` of a config that has at least one SR block."""
    model = build_model(cfg)
    if not sr_blocks(model):
        raise ConfigError(f'{cfg.filename} has no SR block; these tools compare an SR model '
                          'with its baseline (the same config without SR).')
    baseline = build_model(cfg, remove_sr(cfg.model))
    if sr_blocks(baseline):
        raise ConfigError(f'{cfg.filename}: an SR block placed outside sr_cfg stays in the '
                          'baseline; place SR blocks with sr_cfg on a plugged backbone.')
    return model, baseline


def sr_blocks(model: nn.Module) -> List[Tuple[str, SRBlock]]:
    """``(name, block)`` of every SR block in ``model``."""
    return [(name, module) for name, module in model.named_modules()
            if isinstance(module, SRBlock)]


def sr_block_inputs(model: nn.Module, run: Callable[[], object]) -> Dict[str, Tensor]:
    """The feature map each SR block of ``model`` receives during ``run()`` (no gradients),
    by block name."""
    seen: Dict[str, Tensor] = {}

    def record(name: str, module: nn.Module, args: tuple) -> None:
        seen[name] = args[0]

    handles = [block.register_forward_pre_hook(functools.partial(record, name))
               for name, block in sr_blocks(model)]
    try:
        with torch.no_grad():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return seen


def default_input_size(cfg: Config) -> Tuple[int, int]:
    """The training input size: the SR ``input_size`` if given, else the segmentor's crop
    (``data_preprocessor.size``), else 224x224."""
    for _, node in iter_dicts(cfg.get('model')):
        sr_cfg = node.get('sr_cfg')
        if isinstance(sr_cfg, dict) and sr_cfg.get('input_size') is not None:
            size = sr_cfg['input_size']
            return (size, size) if isinstance(size, int) else tuple(size)
    size = (cfg.model.get('data_preprocessor') or {}).get('size')
    return tuple(size) if size else (224, 224)
