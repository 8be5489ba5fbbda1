"""Parameters and FLOPs of an SR model against its baseline, per SR block, three ways: counted
from the modules, from mmengine's complexity analysis, and from the closed forms.

Closed forms for one block (``C`` channels, ``H x W`` memory, ``P`` blocks, ``h`` hidden)::

    params = P*C*H*W + (C + 1) + (H*W*h + h) + (h*P + P)      (memory, squeeze, FC1, FC2)
    FLOPs  = C*H*W + H*W*h + h*P + P*C*H*W                   (multiply-adds, as mmengine counts:
             squeeze    fc1     fc2    recall                  the softmax and the addition
                                                               are not counted)

at the memory size; at other input sizes the block pools and resamples (see ``SRBlock``).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from torch import nn

from ..models.layers import SRBlock
from .sr_models import build_sr_and_baseline, default_input_size, sr_block_inputs, sr_blocks

#: the input is 1, 2 and 3 times input_size / PROBE_DIVISOR in the small-input FLOP count
PROBE_DIVISOR = 32


def sr_block_params_formula(block: SRBlock) -> int:
    (height, width), c, p, h = block.memory_size, block.in_channels, \
        block.num_memory_blocks, block.hidden_channels
    return p * c * height * width + (c + 1) + (height * width * h + h) + (h * p + p)


def sr_block_flops_formula(block: SRBlock) -> int:
    (height, width), c, p, h = block.memory_size, block.in_channels, \
        block.num_memory_blocks, block.hidden_channels
    return c * height * width + height * width * h + h * p + p * c * height * width


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _flop_analyzer(model: nn.Module, input_size: Tuple[int, int]) -> FlopAnalyzer:
    """mmengine's FLOP analysis of ``model`` on one ``1 x 3 x H x W`` input (``mode='tensor'``,
    what ``get_model_complexity_info`` runs)."""
    analyzer = FlopAnalyzer(model.eval(), (torch.zeros(1, 3, *input_size), ))
    return analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)


def fully_convolutional_flops(model: nn.Module, input_size: Tuple[int, int]) -> int:
    """mmengine's FLOPs of a fully convolutional model (a segmentor without SR) at
    ``input_size``, counted on three small inputs of its aspect: such a model's FLOPs are affine
    in the pixel count (each layer works per pixel; a pooled branch adds a constant), which two
    inputs fix and the third checks. Counted at ``input_size`` itself where the check fails or
    the size is not a multiple of :data:`PROBE_DIVISOR`."""
    height, width = input_size
    if height % PROBE_DIVISOR or width % PROBE_DIVISOR:
        return int(_flop_analyzer(model, input_size).total())
    unit = (height // PROBE_DIVISOR, width // PROBE_DIVISOR)
    counts = [int(_flop_analyzer(model, (unit[0] * k, unit[1] * k)).total()) for k in (1, 2, 3)]
    per_unit_area = (counts[1] - counts[0]) // 3  # k*k units of area: 4 - 1
    constant = counts[0] - per_unit_area
    if counts[2] != constant + 9 * per_unit_area or (counts[1] - counts[0]) % 3:
        return int(_flop_analyzer(model, input_size).total())
    return constant + PROBE_DIVISOR**2 * per_unit_area


def flops_overhead(cfg: Config) -> Dict[str, object]:
    """The FLOPs the config's SR blocks add to its baseline at the training input size, where
    each block sees its memory size and adds its closed-form FLOPs."""
    input_size = tuple(default_input_size(cfg))
    model, baseline = build_sr_and_baseline(cfg)
    base = fully_convolutional_flops(baseline.eval(), input_size)
    added = sum(sr_block_flops_formula(block) for _, block in sr_blocks(model))
    return dict(input_size=list(input_size), baseline_flops=base, delta_flops=added,
                delta_flops_percent=100.0 * added / base)


def complexity_report(cfg: Config, input_size: Tuple[int, int] = None) -> Dict[str, object]:
    """Parameters and FLOPs of the config's SR model, its baseline, their difference, and each
    SR block (counted, mmengine, formula)."""
    input_size = tuple(input_size or default_input_size(cfg))
    model, baseline = build_sr_and_baseline(cfg)
    analyzers = {'sr': _flop_analyzer(model, input_size),
                 'baseline': _flop_analyzer(baseline, input_size)}
    report: Dict[str, object] = dict(config=cfg.filename, input_size=list(input_size))
    for name, net in (('sr', model), ('baseline', baseline)):
        report[name] = dict(params=count_params(net),
                            params_mmengine=int(parameter_count(net)['']),
                            flops=int(analyzers[name].total()))
    for key in ('params', 'flops'):
        delta = report['sr'][key] - report['baseline'][key]
        report[f'delta_{key}'] = delta
        report[f'delta_{key}_percent'] = 100.0 * delta / report['baseline'][key]
    blocks: List[Dict[str, object]] = []
    x = torch.zeros(1, 3, *input_size)
    seen_sizes = {name: tuple(t.shape[-2:]) for name, t in
                  sr_block_inputs(model.eval(), lambda: model(x, mode='tensor')).items()}
    block_flops = analyzers['sr'].by_module()
    for name, block in sr_blocks(model):
        blocks.append(dict(
            name=name, in_channels=block.in_channels, memory_size=list(block.memory_size),
            num_memory_blocks=block.num_memory_blocks, hidden_channels=block.hidden_channels,
            params=count_params(block), params_formula=sr_block_params_formula(block),
            flops=int(block_flops[name]), flops_formula=sr_block_flops_formula(block)))
    report['sr_blocks'] = blocks
    report['consistent'] = (
        report['sr']['params'] == report['sr']['params_mmengine']
        and report['delta_params'] == sum(b['params'] for b in blocks)
        and all(b['params'] == b['params_formula'] for b in blocks)
        and all(b['flops'] == b['flops_formula'] for b in blocks
                if tuple(b['memory_size']) == seen_sizes[b['name']]))
    return report


def format_report(report: Dict[str, object]) -> str:
    """The report as text tables."""
    size = 'x'.join(map(str, report['input_size']))
    lines = [f'{report["config"]} at {size} input (FLOPs = multiply-adds, mmengine)',
             f'{"":10s} {"params":>14s} {"FLOPs":>18s}']
    for name in ('baseline', 'sr'):
        lines.append(f'{name:10s} {report[name]["params"]:>14,d} {report[name]["flops"]:>18,d}')
    lines.append(f'{"SR adds":10s} {report["delta_params"]:>14,d} {report["delta_flops"]:>18,d}')
    lines.append(f'{"":10s} {report["delta_params_percent"]:>13.2f}% '
                 f'{report["delta_flops_percent"]:>17.2f}%')
    for block in report['sr_blocks']:
        lines.append(
            f'SR block {block["name"]}: C={block["in_channels"]} memory '
            f'{block["memory_size"][0]}x{block["memory_size"][1]} P={block["num_memory_blocks"]}'
            f' h={block["hidden_channels"]}: params {block["params"]:,d} (formula '
            f'{block["params_formula"]:,d}), FLOPs {block["flops"]:,d} (formula '
            f'{block["flops_formula"]:,d})')
    lines.append('counted, mmengine and formula agree' if report['consistent']
                 else 'MISMATCH between counted, mmengine and formula figures (see JSON)')
    return '\n'.join(lines)
