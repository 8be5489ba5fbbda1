"""Test (evaluate) a checkpoint of an MMSegmentation or MMPretrain config - the upstream
``tools/test.py`` command line, plus ``--sr-off``.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE] [--tta]
                         [--cfg-options k=v ...] [--launcher ...] [--sr-off]

The config's ``default_scope`` picks mmseg's or mmpretrain's ``tools/test.py``, which runs with
this command line; what the run does beyond upstream comes from the config (``test_cfg =
dict(type='CheckedTestLoop')``: checked test data). ``--sr-off`` becomes ``--cfg-options
model.backbone.sr_cfg.enabled=False`` (every SR block's contribution switched off: the paper's
ablation; the checkpoint is loaded as it is). See :mod:`mmsr.cli.upstream_tools`.
"""
import sys
from typing import Optional, Sequence

from mmsr.cli import exit_with
from mmsr.cli.upstream_tools import run_tool


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_tool('test', sys.argv[1:] if argv is None else list(argv))


if __name__ == '__main__':
    exit_with(main())
