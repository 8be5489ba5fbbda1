#!/usr/bin/env python
"""The README's table of every config: the paper row it reproduces (``configs/paper_rows.csv``),
its SR setting, its parameters, and its parameter overhead computed from the built models next to
the overhead the paper prints for that row.

    python tools/analysis_tools/config_table.py              # print the table
    python tools/analysis_tools/config_table.py --write README.md
    python tools/analysis_tools/config_table.py --check README.md   # exit 1 if out of date

"OH" is the parameter increase over the model the paper's row is measured against: the same
config without SR, or for Table II the plain ResNet (the paper's OH column there includes SE /
CBAM). The table sits in the README between the two marker lines below.
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional

from mmengine.config import Config

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.analysis.complexity import count_params
from mmsr.analysis.paper_rows import PaperRow, read_paper_rows
from mmsr.analysis.sr_models import build_model, remove_sr, sr_blocks

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs'
START, END = '<!-- config-table:start -->', '<!-- config-table:end -->'
#: ours and the paper's overhead agree when they differ by at most this many points
OH_TOLERANCE = 0.02


def config_paths(root: Path = CONFIGS) -> List[Path]:
    return sorted(p for p in root.rglob('*.py') if '_base_' not in p.parts)


def overhead(row: PaperRow, root: Path = CONFIGS) -> Optional[Dict[str, float]]:
    """``params``, ``added`` and ``percent`` of the row's config over the model its paper
    overhead is measured against; ``None`` for a baseline without a reference."""
    cfg = Config.fromfile(str(root / row.config))
    model = build_model(cfg)
    params = count_params(model)
    if row.oh_vs:
        reference = count_params(build_model(Config.fromfile(str(root / row.oh_vs))))
    elif sr_blocks(model):
        reference = count_params(build_model(cfg, remove_sr(cfg.model)))
    else:
        return dict(params=params, added=None, percent=None)
    added = params - reference
    return dict(params=params, added=added, percent=100 * added / reference)


def paper_column(row: PaperRow) -> str:
    if not row.is_paper_row:
        return f'not a paper row ({row.row})'
    return f'{row.table}: {row.row}'


def table(root: Path = CONFIGS) -> str:
    """One line per config, in the order of ``paper_rows.csv`` (the paper's tables)."""
    rows = read_paper_rows(root)
    files = {p.relative_to(root).as_posix() for p in config_paths(root)}
    if files != set(rows):
        raise SystemExit(f'config_table.py: {root / "paper_rows.csv"} and the configs differ: '
                         f'configs without a line {sorted(files - set(rows))}, lines without a '
                         f'config {sorted(set(rows) - files)}.')
    lines = ['| config | paper table: row | SR (M, P, h) | params | OH (ours) | OH (paper) | '
             "paper's result | note |",
             '|---|---|---|---:|---:|---:|---|---|']
    for rel, row in rows.items():
        figures = overhead(row, root)
        setting = f'M{row.M} P{row.P} h{row.h}' if row.has_sr else '-'
        if row.has_sr and row.after_stage != row.M:
            setting += f' (after stage {row.after_stage})'
        ours = (f'+{figures["added"]:,} ({figures["percent"]:.2f}%)'
                if figures['added'] is not None else '-')
        paper = f'{row.paper_oh:.2f}%' if row.paper_oh is not None else '-'
        note = row.note
        if row.paper_oh is not None and figures['percent'] is not None:
            gap = figures['percent'] - row.paper_oh
            if abs(gap) > OH_TOLERANCE:
                note = f'differs by {gap:+.2f} points: {note or "unexplained"}'
        lines.append(f'| [{Path(rel).name}](configs/{rel}) | {paper_column(row)} | {setting} | '
                     f'{figures["params"]:,} | {ours} | {paper} | {row.paper_result or "-"} | '
                     f'{note} |')
    return '\n'.join(lines)


def replace_table(readme: str, new_table: str) -> str:
    if START not in readme or END not in readme:
        raise SystemExit(f'config_table.py: the README has no {START} ... {END} markers.')
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f'{head}{START}\n{new_table}\n{END}{tail}'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--write', metavar='README', help='write the table into this file')
    group.add_argument('--check', metavar='README', help='exit 1 if its table is out of date')
    args = parser.parse_args(argv)
    new_table = table()
    if args.write or args.check:
        path = Path(args.write or args.check)
        readme = path.read_text()
        updated = replace_table(readme, new_table)
        if args.check:
            if updated != readme:
                print(f'{path}: the config table is out of date; run '
                      f'"python tools/analysis_tools/config_table.py --write {path}".')
                return 1
            return 0
        path.write_text(updated)
    else:
        print(new_table)
    return 0


if __name__ == '__main__':
    sys.exit(main())
