#!/usr/bin/env python
"""Resample the SR blocks of a checkpoint to another memory size (e.g. for another crop).

    python tools/model_converters/resample_sr_memory.py SRC.pth DST.pth --memory-size 64 128
    python tools/model_converters/resample_sr_memory.py SRC.pth DST.pth \
        --config configs/deeplabv3_r50_sr_cityscapes.py --cfg-options ...

Every SR block's memory ``M`` (``P x C x H x W``) is resized bilinearly
(``align_corners=False``) to the new ``H' x W'``, and the first FC layer's weights over the
squeezed map (``h x H*W``) likewise, scaled by ``H*W / (H'*W')`` so that a smooth map gives
the same hidden units; the other tensors are copied. The new size is ``--memory-size`` for
every block, or each block's ``memory_size`` in the model ``--config`` builds. Without the
conversion, loading a checkpoint into a model with another memory size is refused.
"""
from typing import Dict, Tuple

import torch
import torch.nn.functional as F
from mmengine.runner import CheckpointLoader
from torch import Tensor

import mmsr  # noqa: F401 (registers the SR models; loads checkpoints safely)
from mmsr.analysis.sr_models import build_model, sr_blocks
from mmsr.cli import exit_with, parsed_config, run_cli, tool_parser
from mmsr.errors import ConfigError


def sr_block_prefixes(state_dict: Dict[str, Tensor]) -> list:
    """``'backbone.layer3.sr_block.'``-style prefixes of the SR blocks in a ``state_dict``
    (found by their keys, wherever the block sits)."""
    prefixes = (key[:-len('memory')] for key in state_dict if key.endswith('memory'))
    return [prefix for prefix in prefixes if prefix + 'remember.fc1.weight' in state_dict]


def resample_sr_block(state_dict: Dict[str, Tensor], prefix: str,
                      size: Tuple[int, int]) -> Tuple[int, int]:
    """Resize one block's memory and fc1 weights to ``size`` in place; returns the old size."""
    memory = state_dict[prefix + 'memory']
    old = tuple(memory.shape[-2:])
    state_dict[prefix + 'memory'] = F.interpolate(
        memory.float(), size=size, mode='bilinear', align_corners=False).to(memory.dtype)
    fc1 = state_dict[prefix + 'remember.fc1.weight']
    grid = F.interpolate(fc1.float().view(fc1.shape[0], 1, *old), size=size, mode='bilinear',
                         align_corners=False)
    scale = (old[0] * old[1]) / (size[0] * size[1])
    state_dict[prefix + 'remember.fc1.weight'] = (grid.flatten(1) * scale).to(fc1.dtype)
    return old


def target_sizes(args, prefixes) -> Dict[str, Tuple[int, int]]:
    if (args.memory_size is None) == (args.config is None):
        raise ConfigError('give either --memory-size H W or --config CONFIG.')
    if args.memory_size is not None:
        return {prefix: tuple(args.memory_size) for prefix in prefixes}
    blocks = dict(sr_blocks(build_model(parsed_config(args))))
    missing = [p for p in prefixes if p.rstrip('.') not in blocks]
    if missing:
        raise ConfigError(f'{args.config} has no SR block named {missing[0].rstrip(".")}; its '
                          f'SR blocks: {sorted(blocks) or "none"}.')
    return {prefix: blocks[prefix.rstrip('.')].memory_size for prefix in prefixes}


def main(argv=None) -> int:
    parser = tool_parser(__doc__, config='option', json_report=False)
    parser.add_argument('src', help='the checkpoint to convert')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument('--memory-size', type=int, nargs=2, metavar=('H', 'W'))
    args = parser.parse_args(argv)

    def run() -> int:
        checkpoint = CheckpointLoader.load_checkpoint(args.src, map_location='cpu')
        state_dict = checkpoint.get('state_dict', checkpoint)
        prefixes = sr_block_prefixes(state_dict)
        if not prefixes:
            raise ConfigError(f'{args.src} holds no SR block (no *memory with '
                              '*remember.fc1.weight beside it).')
        for prefix, size in target_sizes(args, prefixes).items():
            old = resample_sr_block(state_dict, prefix, size)
            print(f'{prefix}memory: {old[0]}x{old[1]} -> {size[0]}x{size[1]}')
        torch.save(checkpoint, args.dst)
        print(f'wrote {args.dst}')
        return 0

    return run_cli('resample_sr_memory.py', run)


if __name__ == '__main__':
    exit_with(main())
