#!/usr/bin/env python
"""The model zoo: every config as the paper row it reproduces (``configs/paper_rows.csv``), its
SR setting, its parameters, and its parameter overhead computed from the built models next to
what the paper prints for that row (overhead and result), and how the paper tested it; for the
rows where the paper prints a "computational" overhead, the FLOPs overhead beside it.

    python tools/analysis_tools/config_table.py            # print every table
    python tools/analysis_tools/config_table.py --write    # update docs/model_zoo.md and README.md
    python tools/analysis_tools/config_table.py --check    # exit 1 if either is out of date

"OH" is the parameter increase over the model the paper's row is measured against: the same
config without SR, or for Table II the plain ResNet (the paper's OH column there includes SE /
CBAM). docs/model_zoo.md gets one table per paper table and the compute overheads; the README
the rows the README shows (Cityscapes, and ImageNet's dropout2d rows). Each sits between marker lines.
"""
import functools
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from mmengine.config import Config

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.analysis.complexity import count_params, flops_overhead
from mmsr.analysis.paper_rows import PaperRow, read_paper_rows
from mmsr.analysis.sr_models import build_model, remove_sr, sr_blocks
from mmsr.cli import exit_with, tool_parser

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs'
MODEL_ZOO, README = REPO / 'docs' / 'model_zoo.md', REPO / 'README.md'
#: ours and the paper's overhead agree when they differ by at most this many points
OH_TOLERANCE = 0.02
SECTIONS = (('IV', 'Cityscapes, Table IV (MMSegmentation; mIoU)'),
            ('III', 'ImageNet, Table III (top-1)'),
            ('I', 'CIFAR-100, Table I (top-1)'),
            ('II', 'CIFAR-100 with SE and CBAM, Table II (top-1)'),
            ('V', 'CIFAR-10, Table V (top-1)'),
            ('-', 'Not paper rows'))
HEADER = ('| model (paper row) | SR: M, P, h | params | OH (ours) | OH (paper) | '
          "paper's result | test | ours | config |\n|---|---|---:|---:|---:|---|---|---|---|")
TEST_PROTOCOLS = {'single-scale': 'single-scale', 'multi-scale flip': 'multi-scale flip (`--tta`)'}
COMPUTE_HEADER = ('| model (paper row) | FLOPs, baseline | FLOPs added by SR | FLOPs OH (ours) | '
                  "paper's computational OH | time OH (ours) |\n|---|---:|---:|---:|---:|---|")


def config_paths(root: Path = CONFIGS) -> List[Path]:
    return sorted(p for p in root.rglob('*.py') if '_base_' not in p.parts)


@functools.lru_cache(maxsize=None)
def config_params(path: Path) -> int:
    """Parameters of a config's model (a Table II reference is built once, not per row)."""
    return count_params(build_model(Config.fromfile(str(path))))


def overhead(row: PaperRow, root: Path = CONFIGS) -> Dict[str, Optional[float]]:
    """``params``, and ``added`` / ``percent`` over the model the row's paper overhead is
    measured against (``None`` for a baseline that has no such reference)."""
    return dict(_overhead(row.config, row.oh_vs, root))


@functools.lru_cache(maxsize=None)
def _overhead(config: str, oh_vs: str, root: Path) -> Tuple[Tuple[str, Optional[float]], ...]:
    """:func:`overhead`, computed once per config (the README's tables repeat rows)."""
    return tuple(_compute_overhead(config, oh_vs, root).items())


def _compute_overhead(config: str, oh_vs: str, root: Path) -> Dict[str, Optional[float]]:
    cfg = Config.fromfile(str(root / config))
    model = build_model(cfg)
    params = count_params(model)
    if oh_vs:
        reference = config_params(root / oh_vs)
    elif sr_blocks(model):
        reference = count_params(build_model(cfg, remove_sr(cfg.model)))
    else:
        return dict(params=params, added=None, percent=None)
    added = params - reference
    return dict(params=params, added=added, percent=100 * added / reference)


def table_line(row: PaperRow, figures: dict, link_prefix: str) -> str:
    setting = f'M{row.M}, P{row.P}, h{row.h}' if row.has_sr else '-'
    if row.has_sr and row.after_stage != row.M:
        setting += f' (after stage {row.after_stage})'
    ours = (f'+{figures["added"]:,} ({figures["percent"]:.2f}%)'
            if figures['added'] is not None else '-')
    paper = f'{row.paper_oh:.2f}%' if row.paper_oh is not None else '-'
    note = row.note
    if row.paper_oh is not None and figures['percent'] is not None:
        gap = figures['percent'] - row.paper_oh
        if abs(gap) > OH_TOLERANCE:
            note = f'OH differs by {gap:+.2f} points: {note or "unexplained"}'
    if row.is_paper_row:
        result = row.paper_result or f"see the paper's Table {row.table}"
        status = 'not reproduced here'
    else:
        result, status = '-', '-'
    name = f'{row.row}<br>*{note}*' if note else row.row
    return (f'| {name} | {setting} | {figures["params"]:,} | {ours} | {paper} | {result} | '
            f'{TEST_PROTOCOLS[row.test_protocol]} | {status} | '
            f'[{Path(row.config).name}]({link_prefix}configs/{row.config}) |')

# Training time overheads measured on a GPU (docs/benchmark.md, "GPU": the command, machine and
# versions of each), by config.
MEASURED_TIME_OH = {
    'deeplabv3_r50_sr_cityscapes.py': '+2.8% s/iter (1x H200, median of iterations 11-40, fp32; '
                                      '[benchmark.md](benchmark.md#gpu))',
}


def compute_table(rows: Iterable[PaperRow], root: Path = CONFIGS) -> str:
    """The FLOPs overhead (mmengine, at the training crop) of each row whose "computational"
    overhead the paper prints, beside it."""
    lines, sizes = [], set()
    for row in rows:
        if row.paper_compute_oh is None:
            continue
        figures = flops_overhead(Config.fromfile(str(root / row.config)))
        sizes.add('x'.join(map(str, figures['input_size'])))
        lines.append(f'| {row.row} | {figures["baseline_flops"] / 1e9:,.1f} G | '
                     f'+{figures["delta_flops"] / 1e6:,.1f} M | '
                     f'{figures["delta_flops_percent"]:.4f}% | {row.paper_compute_oh:.2f}% | '
                     f'{MEASURED_TIME_OH.get(Path(row.config).name, "not measured")} |')
    return (f'**Compute overheads, Table IV (FLOPs = multiply-adds at the {", ".join(sizes)} '
            f'training crop)**\n\n{COMPUTE_HEADER}\n' + '\n'.join(lines))


def tables(rows: Iterable[PaperRow], link_prefix: str, root: Path = CONFIGS) -> str:
    rows = list(rows)
    parts = []
    for table, title in SECTIONS:
        lines = [table_line(row, overhead(row, root), link_prefix)
                 for row in rows if row.table == table]
        if lines:
            parts.append(f'**{title}**\n\n{HEADER}\n' + '\n'.join(lines))
    return '\n\n'.join(parts)


def paper_rows(root: Path = CONFIGS) -> Dict[str, PaperRow]:
    rows = read_paper_rows(root)
    files = {p.relative_to(root).as_posix() for p in config_paths(root)}
    if files != set(rows):
        raise SystemExit(f'config_table.py: {root / "paper_rows.csv"} and the configs differ: '
                         f'configs without a line {sorted(files - set(rows))}, lines without a '
                         f'config {sorted(set(rows) - files)}.')
    return rows


def in_readme(row: PaperRow) -> bool:
    return row.table == 'IV' or (row.table == 'III' and 'D2D' in row.row)


def generated(root: Path = CONFIGS) -> Dict[Path, str]:
    """What goes between the markers of each file."""
    rows = paper_rows(root).values()
    return {MODEL_ZOO: tables(rows, '../', root) + '\n\n' + compute_table(rows, root),
            README: tables([row for row in rows if in_readme(row)], '', root)}


def replace_block(text: str, block: str, path: Path) -> str:
    start, end = '<!-- model-zoo:start -->', '<!-- model-zoo:end -->'
    if start not in text or end not in text:
        raise SystemExit(f'config_table.py: {path} has no {start} ... {end} markers.')
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f'{head}{start}\n{block}\n{end}{tail}'


def main(argv=None) -> int:
    parser = tool_parser(__doc__, config=None, json_report=False)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--write', action='store_true',
                       help='write the tables into docs/model_zoo.md and README.md')
    group.add_argument('--check', action='store_true',
                       help='exit 1 if docs/model_zoo.md or README.md is out of date')
    args = parser.parse_args(argv)
    blocks = generated()
    if not (args.write or args.check):
        print(blocks[MODEL_ZOO])
        return 0
    stale = []
    for path, block in blocks.items():
        text = path.read_text()
        updated = replace_block(text, block, path)
        if updated != text:
            stale.append(path)
            if args.write:
                path.write_text(updated)
    if args.check and stale:
        print(f'out of date: {", ".join(str(p.relative_to(REPO)) for p in stale)}; run '
              '"python tools/analysis_tools/config_table.py --write".')
        return 1
    return 0


if __name__ == '__main__':
    exit_with(main())
