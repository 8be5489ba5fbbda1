"""Train an MMSegmentation or MMPretrain config - the upstream ``tools/train.py`` command line.

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp] [--cfg-options k=v ...]
                                 [--launcher {none,pytorch,slurm,mpi}]

The config's ``default_scope`` picks mmseg's or mmpretrain's ``tools/train.py``, which runs with
this command line (its ``-h`` lists every option). What the run does beyond upstream comes from
the config, as with the stock tool (``runner_type = 'ResumableRunner'``: checked data and work
dir, exact resume). On a machine without CUDA, ``--launcher pytorch`` (``tools/dist_train.sh``)
runs on gloo: this tool creates the gloo process group and adds ``--cfg-options`` that wrap the
model without ``device_ids``. See :mod:`mmsr.cli.upstream_tools`.
"""
import sys
from typing import Optional, Sequence

from mmsr.cli import exit_with
from mmsr.cli.upstream_tools import run_tool


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_tool('train', sys.argv[1:] if argv is None else list(argv))


if __name__ == '__main__':
    exit_with(main())
