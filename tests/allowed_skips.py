"""Every reason a test may be skipped for, in one place; the suite fails on any other skip
(``conftest.py``). On the main lane (``requirements/stack.txt``) nothing is skipped on a
machine without a GPU except what needs one."""
import importlib.util

import torch

from mmsr.torch_features import HAS_SAFE_GLOBALS

NO_ALLOW_LIST = ('torch < 2.4 has no weights_only allow-list: checkpoints load as its stock '
                 'tools load them, so mmsr cannot refuse crafted ones there (README)')
NO_ONNX = ('ONNX export: onnx, onnxscript and onnxruntime are pinned in the main and newest '
           'stacks only (the torch 2.1 lane has no dynamo exporter)')
NO_GPU = 'needs a CUDA GPU; this machine has none'

ALLOWED = (NO_ALLOW_LIST, NO_ONNX, NO_GPU)

HAS_ONNX = all(importlib.util.find_spec(name) is not None
               for name in ('onnx', 'onnxscript', 'onnxruntime'))
HAS_GPU = torch.cuda.is_available()

__all__ = ['ALLOWED', 'HAS_GPU', 'HAS_ONNX', 'HAS_SAFE_GLOBALS', 'NO_ALLOW_LIST', 'NO_GPU',
           'NO_ONNX']
