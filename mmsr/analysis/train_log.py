"""Training speed and memory from the logs of finished runs (``train_time.py``).

mmengine's ``LoggerHook`` writes one JSON line per logged iteration to
``<work_dir>/<timestamp>/vis_data/scalars.json``: ``time`` (seconds for the iteration, data
loading included), ``data_time`` and, on CUDA, ``memory`` (the peak allocated MiB since the
previous record: mmengine resets the peak after reading it). A run resumed into the same work
dir has one such file per start; all are read.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Dict, List

from ..errors import DataNotFoundError


def read_train_records(work_dir: str | Path) -> List[dict]:
    """The training records (those with a ``time``) of every start of a run, by step."""
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not files:
        raise DataNotFoundError(f'{work_dir}: no */vis_data/scalars.json; pass the --work-dir '
                                'of a finished training run.')
    records = {}
    for path in files:
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if 'time' in record and 'step' in record and 'loss' in record:
                records[record['step']] = record
    return [records[step] for step in sorted(records)]


def train_speed(work_dir: str | Path, skip: int = 10) -> Dict[str, object]:
    """Median seconds per iteration after the first ``skip`` logged iterations (start-up,
    cuDNN's algorithm search), the median data-loading time, and the peak memory (MiB) of those
    iterations (cuDNN's algorithm search in the first ones can allocate most of the GPU)."""
    records = read_train_records(work_dir)
    timed = records[skip:]
    if not timed:
        raise DataNotFoundError(f'{work_dir}: {len(records)} logged iterations, none left after '
                                f'skipping {skip}: train longer or pass a smaller --skip.')
    memory = [r['memory'] for r in timed if 'memory' in r]
    return dict(work_dir=str(work_dir), iterations=len(timed),
                s_per_iter=statistics.median(r['time'] for r in timed),
                data_s_per_iter=statistics.median(r.get('data_time', 0.0) for r in timed),
                peak_memory_mib=max(memory) if memory else None)
