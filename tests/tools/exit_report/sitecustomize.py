"""On ``PYTHONPATH`` in the distributed test of ``test_train_test_tools.py``: at its exit, each
process of the run prints how many ``DistributedDataParallel`` wrappers are still alive. One
alive then holds its process group into the interpreter's teardown, where a gloo process can
abort ('terminate called without an active exception')."""
import atexit
import gc
import os
import sys


def _print_wrappers_alive() -> None:
    parallel = sys.modules.get('torch.nn.parallel')
    if parallel is None:  # torchrun's launcher: no model
        return
    gc.unfreeze()  # what mmsr.cli.exit_with froze counts too
    alive = sum(isinstance(obj, parallel.DistributedDataParallel) for obj in gc.get_objects())
    print(f"exit report: rank {os.environ.get('RANK')}: {alive} DistributedDataParallel alive",
          file=sys.stderr, flush=True)


atexit.register(_print_wrappers_alive)
