"""Save the random-number generators' states with every checkpoint and restore them on resume."""
from __future__ import annotations

import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Makes ``--resume`` continue the random streams where the checkpoint left them.

    mmengine re-seeds on resume, so dropout, dropout2d and DropBlock masks after a resume differ
    from an uninterrupted run. This hook stores the torch (CPU and CUDA), numpy and Python RNG
    states in each checkpoint (``checkpoint['rng_state']``; plain tensors, arrays, ints and
    strings, so it loads with ``weights_only=True``) and restores them right before the first
    training iteration after a resume: the forward passes then see the same random numbers as
    in a run that never stopped. Random augmentation in dataloader workers is seeded by the
    dataloader itself and is not covered.

    Add it with ``custom_hooks = [dict(type='RNGStateHook')]``.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                     python=random.getstate())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        torch.set_rng_state(state['torch'])
        np.random.set_state(state['numpy'])
        random.setstate(state['python'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
