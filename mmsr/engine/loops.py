"""Dataloaders built with their data checked, and the test loop that builds its own that way.

:func:`build_checked_dataloader` is mmengine's ``Runner.build_dataloader`` with the dataset's
paths checked before it is built and its loading steps checked while it loads
(:mod:`mmsr.datasets`). :class:`~mmsr.engine.runner.ResumableRunner` builds every dataloader
with it; ``test_cfg = dict(type='CheckedTestLoop')`` does the same for the test dataloader under
any runner - mmseg's ``tools/test.py`` builds a plain ``Runner`` whatever ``runner_type`` says,
but it builds the test loop the config names.
"""
from __future__ import annotations

from typing import Optional, Union

from mmengine.registry import LOOPS
from mmengine.runner import Runner, TestLoop
from torch.utils.data import DataLoader

from ..datasets import check_dataset_paths, check_loading


def build_checked_dataloader(dataloader: Union[DataLoader, dict], key: str,
                             seed: Optional[int] = None,
                             diff_rank_seed: bool = False) -> DataLoader:
    """``Runner.build_dataloader(dataloader, seed, diff_rank_seed)``, with the dataset config's
    folders and files checked first and its loading transforms checked; ``key`` is the
    dataloader's config key (e.g. ``'val_dataloader'``), named by the errors."""
    if isinstance(dataloader, dict):
        check_dataset_paths(dataloader.get('dataset'), f'{key}.dataset')
    loader = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
    check_loading(loader.dataset, f'{key}.dataset')
    return loader


@LOOPS.register_module()
class CheckedTestLoop(TestLoop):
    """mmengine's ``TestLoop`` whose dataloader is built by :func:`build_checked_dataloader`:
    a missing dataset folder, an unreadable image or a label map of the wrong size is an
    error naming the file and the ``test_dataloader`` key."""

    def __init__(self, runner, dataloader: Union[DataLoader, dict], evaluator, fp16: bool = False
                 ) -> None:
        if isinstance(dataloader, dict):
            dataloader = build_checked_dataloader(  # as BaseLoop builds it
                dataloader, 'test_dataloader', seed=runner.seed,
                diff_rank_seed=runner._randomness_cfg.get('diff_rank_seed', False))
        super().__init__(runner, dataloader, evaluator, fp16)
