"""StepSeedHook makes resume exact with a plain mmengine Runner: a run of 2N iterations, and a
run resumed from that run's own checkpoint after N, train the same (weights and losses), with
dropout2d in the model and random augmentation in the data - loaded in the main process
(iteration- and epoch-based loops) or in workers that persist across epochs (epoch-based
loop). Without the hook the same comparison fails."""
import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmsr.models.backbones.mmpretrain_backbones import PluggedResNet_CIFAR


class RandomlyFlippedImages(Dataset):
    """16 fixed 16x16 images with 3 labels, each flipped and shifted at random (numpy)."""

    def __init__(self):
        gen = torch.Generator().manual_seed(123)
        self.images = torch.randn(16, 3, 16, 16, generator=gen)
        self.labels = torch.arange(16) % 3

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        image = self.images[index]
        if np.random.rand() < 0.5:
            image = image.flip(-1)
        return dict(image=image.roll(int(np.random.randint(-2, 3)), -2), label=self.labels[index])


class TinySRClassifier(BaseModel):

    def __init__(self):
        super().__init__()
        self.backbone = PluggedResNet_CIFAR(
            depth=18, stem_channels=8, base_channels=8,
            sr_cfg=dict(after_stage=3, num_memory_blocks=2, hidden_channels=4,
                        input_size=(16, 16)),
            stage_dropout_cfg=dict(type='Dropout2d', p=0.2, after_stages=(2, )))
        self.head = nn.Linear(64, 3)

    def forward(self, image, label, mode='loss'):
        logits = self.head(self.backbone(image)[-1].mean((2, 3)))
        if mode == 'loss':
            return dict(loss=nn.functional.cross_entropy(logits, label))
        return logits


class RecordLosses(Hook):

    def __init__(self, losses):
        self.losses = losses

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses[runner.iter] = float(outputs['loss'])


LOOPS = {
    'iterations, main-process loading': dict(
        loader=dict(num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True)),
        train_cfg=lambda n: dict(by_epoch=False, max_iters=4 * n), by_epoch=False),
    'epochs, main-process loading': dict(
        loader=dict(num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True)),
        train_cfg=lambda n: dict(by_epoch=True, max_epochs=n), by_epoch=True),
    'epochs, persistent workers': dict(
        loader=dict(num_workers=2, persistent_workers=True,
                    sampler=dict(type='DefaultSampler', shuffle=True)),
        train_cfg=lambda n: dict(by_epoch=True, max_epochs=n), by_epoch=True),
}


def run(work_dir, loop, length, losses, seed_hook, resume_from=None):
    torch.manual_seed(0)  # the same initial weights in every run (resume overwrites them)
    runner = Runner(
        model=TinySRClassifier(), work_dir=str(work_dir), experiment_name=work_dir.name,
        train_dataloader=dict(dataset=RandomlyFlippedImages(), batch_size=4,
                              collate_fn=dict(type='default_collate'), **loop['loader']),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                          weight_decay=5e-4)),
        train_cfg=loop['train_cfg'](length),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           by_epoch=loop['by_epoch'])),
        custom_hooks=[RecordLosses(losses)] + ([dict(type='StepSeedHook')] if seed_hook else []),
        randomness=dict(seed=7), resume=resume_from is not None, load_from=resume_from)
    runner.train()
    return {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


def straight_and_resumed(tmp_path, loop, seed_hook):
    """Train 2N straight (a checkpoint after each step), then resume from its checkpoint after
    N to 2N: whether losses and final weights are the same."""
    straight_losses, resumed_losses = {}, {}
    straight = run(tmp_path / 'straight', loop, 2, straight_losses, seed_hook)
    checkpoint = 'epoch_1.pth' if loop['by_epoch'] else 'iter_4.pth'
    resumed = run(tmp_path / 'resumed', loop, 2, resumed_losses, seed_hook,
                  resume_from=str(tmp_path / 'straight' / checkpoint))
    assert sorted(resumed_losses) == list(range(4, 8))
    split_losses = {**{k: v for k, v in straight_losses.items() if k < 4}, **resumed_losses}
    assert sorted(straight_losses) == list(range(8))
    same_weights = all(torch.equal(straight[key], resumed[key]) for key in straight)
    return split_losses == straight_losses and same_weights, straight


@pytest.mark.parametrize('loop', sorted(LOOPS))
def test_resume_is_exact_with_the_hook(tmp_path, loop):
    exact, straight = straight_and_resumed(tmp_path, LOOPS[loop], seed_hook=True)
    assert exact
    assert torch.count_nonzero(straight['backbone.layer3.sr_block.memory']) > 0


@pytest.mark.parametrize('loop', sorted(LOOPS))
def test_resume_is_not_exact_without_it(tmp_path, loop):
    exact, _ = straight_and_resumed(tmp_path, LOOPS[loop], seed_hook=False)
    assert not exact
