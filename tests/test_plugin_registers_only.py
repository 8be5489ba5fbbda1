"""``import mmsr`` registers and replaces nothing: every attribute of mmengine's ``Runner`` and
``Registry`` (and of the other host classes and modules a plugin could rewire) is the same
object before ``import mmsr`` and after it, also after mmsr's tools/train.py and tools/test.py
have run in the same process. Runs in a fresh interpreter, where mmsr is not imported yet."""
import json
import subprocess
import sys

from mmsr.datasets import make_imagenet_layout
from tool_runs import REPO, imagenet_options, with_repo_path

SCRIPT = r'''
import json, sys, types
import torch, torch.serialization, torch.nn as nn
import mmengine.dist, mmengine.registry, mmengine.runner, mmengine.runner.checkpoint
import mmengine.runner.loops, mmengine.dataset
from mmengine.registry import Registry
from mmengine.runner import Runner
import mmseg.models.backbones as seg_backbones, mmseg.apis
import mmpretrain.models.backbones as cls_backbones, mmpretrain.apis
from mmpretrain.models.backbones.resnet import BasicBlock, Bottleneck

MODULES = [torch, torch.serialization, nn.functional, mmengine.dist, mmengine.registry,
           mmengine.runner, mmengine.runner.checkpoint, mmengine.runner.loops, mmengine.dataset,
           seg_backbones, cls_backbones, mmseg.apis, mmpretrain.apis]
CLASSES = [Runner, Registry, mmengine.runner.checkpoint.CheckpointLoader,
           mmengine.runner.loops.TestLoop, mmengine.runner.loops.EpochBasedTrainLoop,
           mmengine.runner.loops.IterBasedTrainLoop, nn.Module, nn.Sequential,
           seg_backbones.ResNet, seg_backbones.ResNetV1c, cls_backbones.ResNet,
           cls_backbones.ResNetV1c, cls_backbones.ResNet_CIFAR, cls_backbones.VGG,
           BasicBlock, Bottleneck]


def snapshot():
    """Every class attribute of CLASSES and every function/class of MODULES, by identity."""
    state = {}
    for cls in CLASSES:
        for name, value in vars(cls).items():
            state[f'{cls.__module__}.{cls.__qualname__}.{name}'] = id(value)
    for module in MODULES:
        for name, value in vars(module).items():
            if callable(value):
                state[f'{module.__name__}.{name}'] = id(value)
    return state


# mmengine's own extension point for checkpoint loaders (CheckpointLoader.register_scheme, used
# by mmsr.engine.safe_checkpoint) rebuilds this table of registered schemes.
REGISTRIES = {'mmengine.runner.checkpoint.CheckpointLoader._schemes'}
before = {k: v for k, v in snapshot().items() if k not in REGISTRIES}
runner_attrs = {name: value for name, value in vars(Runner).items()}
import mmsr  # noqa
after_import = snapshot()
sys.path.insert(0, 'tools')
import train, test  # mmsr's tools/train.py and tools/test.py, in this process
data, work, options = sys.argv[1], sys.argv[2], sys.argv[3:]
config = 'tests/data/configs/tiny_resnet18_sr_imagenet.py'
typed = ['runner_type=ResumableRunner', 'test_cfg.type=CheckedTestLoop']
codes = [train.main([config, '--work-dir', work, '--cfg-options', *options, *typed]),
         test.main([config, f'{work}/epoch_1.pth', '--work-dir', work + '-test', '--sr-off',
                    '--cfg-options', *options, *typed]),
         test.main(['configs/fcn_r50_sr_cityscapes.py', f'{work}/x.pth', '--work-dir',
                    work + '-seg', '--cfg-options', f'test_dataloader.dataset.data_root={data}-no'])]
after_run = snapshot()
changed = sorted(k for k in before if before[k] != after_import.get(k) or before[k] != after_run.get(k))
same_runner = all(vars(Runner).get(n) is v for n, v in runner_attrs.items())
print(json.dumps(dict(codes=codes, changed=changed, checked=len(before), same_runner=same_runner,
                      new_runner_attrs=sorted(set(vars(Runner)) - set(runner_attrs)))))
'''


def test_import_mmsr_and_its_tools_replace_nothing_of_the_host(tmp_path):
    data = make_imagenet_layout(tmp_path / 'imagenet', num_classes=3, train_per_class=2,
                                val_per_class=1)
    result = subprocess.run(
        [sys.executable, '-c', SCRIPT, str(data), str(tmp_path / 'work'),
         *imagenet_options(data), 'train_cfg.max_epochs=1'],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**__import__('os').environ, 'PYTHONPATH': with_repo_path()})
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # The tools ran for real: a training, a test with --sr-off, and a one-line data error
    # from the plain Runner mmseg's test.py builds (through the config's CheckedTestLoop).
    assert report['codes'] == [0, 0, 2], result.stderr[-3000:]
    assert "tools/test.py: error: test_dataloader.dataset: the CityscapesDataset folder" \
        in result.stderr
    assert report['checked'] > 1000  # the host's classes and modules were all looked at
    assert report['changed'] == [] and report['same_runner'] and not report['new_runner_attrs']
