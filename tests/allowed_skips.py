"""Every reason a test may be skipped for, in one place; the suite fails on any other skip
(``conftest.py``). On the main lane (``requirements/stack.txt``) nothing is skipped."""
import importlib.util

NO_ALLOW_LIST = ('torch < 2.4 has no weights_only allow-list: checkpoints load as its stock '
                 'tools load them, so mmsr cannot refuse crafted ones there (README)')
NO_ONNX = ('ONNX export: onnx, onnxscript and onnxruntime are pinned in the main and newest '
           'stacks only (the torch 2.1 lane has no dynamo exporter)')

NO_TRITON_INTERPRETER = ('the Triton kernel runs under TRITON_INTERPRET=1 (Triton >= 3) on '
                         'the CPU; the torch 2.1 lane has Triton 2.1')

NO_CUDA = ('GPU test (marker gpu): no CUDA device is visible here; make test runs it where one is '
           '(docs/testing.md, "GPU checks")')

ALLOWED = (NO_ALLOW_LIST, NO_ONNX, NO_TRITON_INTERPRETER, NO_CUDA)

HAS_ONNX = all(importlib.util.find_spec(name) is not None
               for name in ('onnx', 'onnxscript', 'onnxruntime'))


def _triton_major() -> int:
    if importlib.util.find_spec('triton') is None:
        return 0
    from importlib.metadata import version
    return int(version('triton').split('.')[0])


HAS_TRITON_INTERPRETER = _triton_major() >= 3
