"""mmsr: the Squeeze-and-Remember block for MMSegmentation and MMPretrain.

``import mmsr`` (or ``custom_imports=dict(imports=['mmsr'])`` in a config):

* refuses a Python or torch it does not support with one line naming the supported range
  (:mod:`mmsr.supported`; installing mmsr never changes torch, so this is where it is checked);
* registers ``SRBlock``, ``DropBlock``, ``CBAM`` and ``Dropout2d`` in mmengine's root
  ``MODELS`` (so every downstream registry finds them) - needs only torch + mmengine;
* registers the SR backbones and the paper's baselines in mmseg's and in mmpretrain's
  ``MODELS`` when those packages are installed (each part is skipped, never an error, when its
  package is absent);
* registers the ``TrainValSplit`` dataset wrapper in mmengine's root ``DATASETS``;
* makes mmengine checkpoints load under torch >= 2.6 with ``weights_only=True`` kept on
  (see :mod:`mmsr.engine.safe_checkpoint`);
* registers ``ResumableRunner`` (mmengine's ``RUNNERS``), ``StepSeedHook`` and
  ``AtomicCheckpointHook`` (``HOOKS``), and makes ``Runner.from_cfg`` honour
  ``runner_type='ResumableRunner'`` (mmseg's ``tools/test.py`` calls it directly; see
  :func:`mmsr.engine.runner.honour_runner_type`).
"""
from .supported import check_environment

check_environment()

from . import datasets  # noqa: E402,F401 (registers TrainValSplit)
from .engine import safe_checkpoint  # noqa: E402
from .engine.runner import honour_runner_type  # noqa: E402
from .models import SRBlock, available_codebases  # noqa: E402
from .version import __version__  # noqa: E402

safe_checkpoint.install()
honour_runner_type()

__all__ = ['SRBlock', 'available_codebases', '__version__']
