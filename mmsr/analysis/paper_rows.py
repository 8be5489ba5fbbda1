"""The paper's tables, row by row, as the shipped configs reproduce them.

``configs/paper_rows.csv`` has one line per shipped config: the table and row of the paper it
reproduces (table ``-``: not a paper row), the row's printed SR setting (``M``, ``P``; ``h``),
where our config puts the block (``after_stage``, counted from 1), the config it adds SR to
(``baseline``), and what the paper prints for the row: its result, its parameter overhead
(``paper_oh``, in %, relative to ``oh_vs`` where given, else to ``baseline``; only where the
text prints it for the row) and its "computational" overhead (``paper_compute_oh``, in %), how
it tested the row (``test_protocol``: ``single-scale``, or ``multi-scale flip`` as mmseg's
``tools/test.py --tta`` does it), with a ``note`` where our figure and the paper's differ or
the paper's is not the row's own.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Dict, Optional

from ..errors import ConfigError

PAPER_ROWS_FILE = 'paper_rows.csv'


@dataclass(frozen=True)
class PaperRow:
    config: str
    table: str
    row: str
    M: Optional[int]
    P: Optional[int]
    h: Optional[int]
    after_stage: Optional[int]
    baseline: str
    paper_result: str
    paper_oh: Optional[float]
    oh_vs: str
    paper_compute_oh: Optional[float]
    test_protocol: str
    note: str

    @property
    def is_paper_row(self) -> bool:
        return self.table != '-'

    @property
    def has_sr(self) -> bool:
        return self.P is not None


def _value(name: str, text: str):
    if name in ('M', 'P', 'h', 'after_stage'):
        return int(text) if text else None
    if name in ('paper_oh', 'paper_compute_oh'):
        return float(text) if text else None
    return text


def read_paper_rows(configs_root: Path) -> Dict[str, PaperRow]:
    """``{config path relative to configs_root: row}`` from ``configs_root/paper_rows.csv``."""
    path = Path(configs_root) / PAPER_ROWS_FILE
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        names = [field.name for field in fields(PaperRow)]
        if reader.fieldnames != names:
            raise ConfigError(f'{path}: columns {reader.fieldnames}, expected {names}.')
        rows = [PaperRow(**{k: _value(k, v) for k, v in line.items()}) for line in reader]
    return {row.config: row for row in rows}


def _configs_root(config_path: Path) -> Optional[Path]:
    for folder in config_path.parents:
        if (folder / PAPER_ROWS_FILE).is_file():
            return folder
    return None


def paper_row_of(config_path: str) -> Optional[PaperRow]:
    """The row of a config inside a folder that has ``paper_rows.csv`` (the repo's
    ``configs/``), found by walking up from the config; ``None`` for any other config."""
    config_path = Path(config_path).resolve()
    root = _configs_root(config_path)
    if root is None:
        return None
    return read_paper_rows(root).get(config_path.relative_to(root).as_posix())


def baseline_file(config_path: str) -> Optional[Path]:
    """The file of the baseline ``paper_rows.csv`` names for a config, if it names one."""
    row = paper_row_of(config_path)
    if row is None or not row.baseline:
        return None
    return config_file(row.baseline, _configs_root(Path(config_path).resolve()))


def config_file(name: str, configs_root: Path) -> Path:
    """The file of a config named in ``paper_rows.csv``: a path relative to ``configs_root``,
    or an upstream config (``mmpretrain::resnet/...``, ``mmseg::...``) in its package."""
    if '::' not in name:
        return Path(configs_root) / name
    import importlib.util
    package, rel = name.split('::', 1)
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ConfigError(f'{name} is a {package} config, but {package} is not installed.')
    return Path(spec.origin).parent / '.mim' / 'configs' / rel
