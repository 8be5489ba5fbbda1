#!/usr/bin/env python
"""The README's table of every config: the paper row it reproduces (the first line of the
config's header comment), its SR setting, and its parameter overhead, computed from the built
model and its baseline (the same config without SR).

    python tools/analysis_tools/config_table.py              # print the table
    python tools/analysis_tools/config_table.py --write README.md
    python tools/analysis_tools/config_table.py --check README.md   # exit 1 if out of date

The table sits in the README between the two marker lines below.
"""
import argparse
import sys
from pathlib import Path
from typing import List

from mmengine.config import Config

import mmsr  # noqa: F401 (registers the SR models)
from mmsr.analysis.complexity import count_params
from mmsr.analysis.sr_models import build_model, remove_sr, sr_blocks

REPO = Path(__file__).resolve().parents[2]
START, END = '<!-- config-table:start -->', '<!-- config-table:end -->'


def paper_row(path: Path) -> str:
    """The first line of the config's header comment, up to its first colon."""
    first = path.read_text().splitlines()[0].lstrip('# ').rstrip()
    return first.split(': ')[0].rstrip('.')


def config_paths(root: Path = REPO / 'configs') -> List[Path]:
    return sorted(p for p in root.rglob('*.py') if '_base_' not in p.parts)


def table(root: Path = REPO / 'configs') -> str:
    lines = ['| config | paper row | SR (M, P, h) | params | SR adds |',
             '|---|---|---|---:|---:|']
    for path in config_paths(root):
        cfg = Config.fromfile(str(path))
        model = build_model(cfg)
        params = count_params(model)
        blocks = sr_blocks(model)
        if blocks:
            stage = cfg.model.backbone.get('sr_cfg', {}).get('after_stage', '?')
            setting = ', '.join(f'M{stage} P{b.num_memory_blocks} h{b.hidden_channels}'
                                for _, b in blocks)
            added = params - count_params(build_model(cfg, remove_sr(cfg.model)))
            overhead = f'{added:,} ({100 * added / (params - added):.2f}%)'
        else:
            setting, overhead = '-', '-'
        name = path.relative_to(REPO).as_posix()
        lines.append(f'| [{path.name}]({name}) | {paper_row(path)} | {setting} | {params:,} | '
                     f'{overhead} |')
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
