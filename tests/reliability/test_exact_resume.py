"""Resume is exact: N iterations, stop, resume to 2N == 2N straight (weights and losses),
with dropout2d in the model (its masks continue through RNGStateHook)."""
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmsr.models.backbones.mmpretrain_backbones import ResNet_CIFAR_SR


class FixedImages(Dataset):
    """16 fixed 16x16 images with 3 labels (no random augmentation)."""

    def __init__(self):
        gen = torch.Generator().manual_seed(123)
        self.images = torch.randn(16, 3, 16, 16, generator=gen)
        self.labels = torch.arange(16) % 3

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return dict(image=self.images[index], label=self.labels[index])


class TinySRClassifier(BaseModel):

    def __init__(self):
        super().__init__()
        self.backbone = ResNet_CIFAR_SR(
            depth=18, stem_channels=8, base_channels=8,
            sr_cfg=dict(after_stage=3, num_memory_blocks=2, hidden_channels=4,
                        input_size=(16, 16)),
            stage_dropout_cfg=dict(type='Dropout2d', p=0.2, after_stages=(2, )))
        self.head = nn.Linear(64, 3)

    def forward(self, image, label, mode='loss'):
        image = torch.stack(image) if isinstance(image, list) else image
        label = torch.stack(label) if isinstance(label, list) else label
        logits = self.head(self.backbone(image)[-1].mean((2, 3)))
        if mode == 'loss':
            return dict(loss=nn.functional.cross_entropy(logits, label))
        return logits


class RecordLosses(Hook):

    def __init__(self, losses):
        self.losses = losses

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses[runner.iter] = float(outputs['loss'])


def run(work_dir, max_iters, losses, resume_from=None):
    torch.manual_seed(0)  # the same initial weights in every run (resume overwrites them)
    runner = Runner(
        model=TinySRClassifier(), work_dir=str(work_dir), experiment_name=work_dir.name,
        train_dataloader=dict(dataset=FixedImages(), batch_size=4, num_workers=0,
                              sampler=dict(type='InfiniteSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                          weight_decay=5e-4)),
        param_scheduler=dict(type='PolyLR', eta_min=1e-4, power=0.9, by_epoch=False,
                             begin=0, end=8),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=4,
                                           by_epoch=False)),
        custom_hooks=[RecordLosses(losses), dict(type='RNGStateHook')],
        randomness=dict(seed=7, deterministic=True),
        resume=resume_from is not None, load_from=resume_from)
    runner.train()
    return {k: v.detach().clone() for k, v in runner.model.state_dict().items()}


def test_resume_is_exact(tmp_path):
    straight_losses, split_losses = {}, {}
    straight = run(tmp_path / 'straight', 8, straight_losses)
    run(tmp_path / 'first', 4, split_losses)
    resumed = run(tmp_path / 'resumed', 8, split_losses,
                  resume_from=str(tmp_path / 'first' / 'iter_4.pth'))
    assert sorted(split_losses) == list(range(8))
    assert split_losses == straight_losses
    assert straight.keys() == resumed.keys()
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
    assert torch.count_nonzero(straight['backbone.sr_block.memory']) > 0
