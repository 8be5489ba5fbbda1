"""Train an MMSegmentation or MMPretrain config - the upstream ``tools/train.py`` command line.

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp] [--cfg-options k=v ...]
                                 [--launcher {none,pytorch,slurm,mpi}]

The config's ``default_scope`` picks mmseg's or mmpretrain's ``tools/train.py``, which then runs
unchanged (its ``-h`` lists every option). Before the runner is built, missing dataset folders
are reported with the key to set; on a machine without CUDA, ``--launcher pytorch`` runs on
gloo. See :mod:`mmsr.cli.upstream_tools`.
"""
import sys
from typing import Optional, Sequence

from mmsr.cli.upstream_tools import run_tool


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_tool('train', sys.argv[1:] if argv is None else list(argv))


if __name__ == '__main__':
    sys.exit(main())
