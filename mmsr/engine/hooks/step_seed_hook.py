"""Seed every random generator from (seed, step), so that a resumed run repeats the random
numbers of a run that never stopped."""
from __future__ import annotations

import random
from functools import partial
from typing import Iterator, Sequence

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

# Independent streams: the training step (model, data preprocessor), samples loaded in the main
# process (num_workers=0), and dataloader workers.
STEP, MAIN_PROCESS_DATA, WORKER = 0, 1, 2


def seed_everything(entropy: Sequence[int]) -> None:
    """Seed torch (CPU and CUDA), numpy and ``random`` from a tuple of non-negative ints.
    (Not ``torch.manual_seed``: its checks of every other backend cost ~0.17 ms a call.) CUDA's
    generators are seeded where CUDA is initialized: not in a dataloader worker forked from a
    CUDA process, where CUDA must not be touched."""
    words = np.random.SeedSequence([int(e) & 0xFFFFFFFFFFFFFFFF for e in entropy]
                                   ).generate_state(3, np.uint64)
    torch.default_generator.manual_seed(int(words[0]))
    if torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(int(words[0]))
    np.random.seed(int(words[1]) & 0xFFFFFFFF)
    random.seed(int(words[2]))


def seed_worker(worker_id: int, seed: int, rank: int, epoch: int) -> None:
    """A dataloader ``worker_init_fn``: the worker's generators from (seed, rank, worker, epoch)."""
    seed_everything((seed, WORKER, rank, worker_id, epoch))


class _SeededFetches:
    """An iterator over batches that seeds the main process before each fetch from how many
    batches were fetched before (the skipped ones of a resume included)."""

    def __init__(self, batches: Iterator, seed: int) -> None:
        self._batches, self._seed, self._fetched = batches, seed, 0

    def __iter__(self) -> '_SeededFetches':
        return self

    def __next__(self):
        seed_everything((self._seed, MAIN_PROCESS_DATA, self._fetched))
        self._fetched += 1
        return next(self._batches)

    def __getattr__(self, name: str):
        return getattr(self._batches, name)


@HOOKS.register_module()
class StepSeedHook(Hook):
    """Makes ``--resume`` exact: the random numbers of a step depend on the step, not on history.

    mmengine seeds once, when the runner starts, so after a resume the generators continue from
    a different state than in a run that never stopped: other dropout / DropBlock masks, other
    random crops. This hook derives every seed from ``runner.seed`` (the config's
    ``randomness.seed``; mmengine stores it in checkpoints and restores it on resume) and the
    position in training:

    * before each training iteration: torch (CPU and CUDA), numpy and ``random`` in the main
      process, from the iteration (the model's randomness, batch augmentations);
    * with ``num_workers=0``, before each batch is loaded (in the main process), from its index;
    * dataloader workers (epoch-based loops), from rank, worker and epoch: the workers are
      started anew each epoch, also with ``persistent_workers=True``, whose workers would
      otherwise carry their random state across epochs and be re-seeded by a resume.
      Iteration-based loops keep one worker pool for the whole run, and mmengine's resume
      reloads the skipped batches through it, which leaves the workers exactly as they were.

    Nothing is stored in checkpoints. :class:`~mmsr.engine.ResumableRunner` adds this hook;
    with another runner, add ``custom_hooks = [dict(type='StepSeedHook')]``.
    """

    priority = 'VERY_HIGH'

    @staticmethod
    def _loads_in_main_process(runner) -> bool:
        return getattr(runner.train_loop.dataloader, 'num_workers', 0) == 0

    @staticmethod
    def _iteration_based(runner) -> bool:
        return hasattr(runner.train_loop, 'dataloader_iterator')  # one iterator for the run

    def before_train(self, runner) -> None:
        if self._iteration_based(runner) and self._loads_in_main_process(runner):
            loop = runner.train_loop
            loop.dataloader_iterator = _SeededFetches(loop.dataloader_iterator, runner.seed)

    def before_train_epoch(self, runner) -> None:
        if self._iteration_based(runner):
            return
        if self._loads_in_main_process(runner):
            seed_everything((runner.seed, MAIN_PROCESS_DATA, runner.iter))
            return
        loader = runner.train_loop.dataloader
        loader.worker_init_fn = partial(seed_worker, seed=runner.seed, rank=get_rank(),
                                        epoch=runner.epoch)
        if getattr(loader, '_iterator', None) is not None:
            loader._iterator = None  # persistent workers: start them with the new seeds

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        seed_everything((runner.seed, STEP, runner.iter))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self._iteration_based(runner) and self._loads_in_main_process(runner):
            seed_everything((runner.seed, MAIN_PROCESS_DATA, runner.iter + 1))  # next batch
