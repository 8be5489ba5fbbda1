"""mmsr: the Squeeze-and-Remember block for MMSegmentation and MMPretrain.

``import mmsr`` (or ``custom_imports=dict(imports=['mmsr'])`` in a config):

* refuses a Python or torch it does not support with one line naming the supported range
  (:mod:`mmsr.supported`; installing mmsr never changes torch, so this is where it is checked);
* registers ``SRBlock``, ``DropBlock``, ``CBAM`` and ``Dropout2d`` in mmengine's root
  ``MODELS`` (so every downstream registry finds them) - needs only torch + mmengine;
* registers the plugged backbones (``Plugged<Upstream>``, ``PluggedResNetV1c`` also as
  ``ResNetV1cSR``) in mmseg's and mmpretrain's ``MODELS`` when those packages are installed
  (each part is skipped, never an error, when its package is absent);
* registers the ``TrainValSplit`` dataset wrapper in mmengine's root ``DATASETS``;
* makes mmengine checkpoints load under torch >= 2.6 with ``weights_only=True`` kept on,
  through torch's and mmengine's own extension points (``add_safe_globals``,
  ``CheckpointLoader.register_scheme``; see :mod:`mmsr.engine.safe_checkpoint`);
* registers ``ResumableRunner`` (mmengine's ``RUNNERS``), ``CheckedTestLoop`` (``LOOPS``),
  ``StepSeedHook`` and ``AtomicCheckpointHook`` (``HOOKS``).

It replaces no function or attribute of torch, mmengine, mmseg or mmpretrain: what a run does
is what its config names (``runner_type``, ``test_cfg``, ``custom_hooks``).
"""
from .supported import check_environment

check_environment()

from . import datasets  # noqa: E402,F401 (registers TrainValSplit)
from .engine import safe_checkpoint  # noqa: E402 (and registers runner, loop, hooks)
from .models import SRBlock, available_codebases  # noqa: E402
from .version import __version__  # noqa: E402

safe_checkpoint.install()

__all__ = ['SRBlock', 'available_codebases', '__version__']
