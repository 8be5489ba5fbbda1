"""Which tests each stack may skip, and why, in one place.

``conftest.py`` fails the run when a test is skipped for a reason not in :data:`ALLOWED`, when a
module is skipped at collection, on any ``xfail``, and when the set of skipped tests differs from
:data:`EXPECTED` for the stack the suite runs on (the requirements file whose torch is installed;
only the tests collected count, so running part of the suite works). GPU tests (marker ``gpu``)
are expected to skip only where no CUDA device is visible.
"""
import importlib.util

NO_ALLOW_LIST = ('torch < 2.4 has no weights_only allow-list: checkpoints load as its stock '
                 'tools load them, so mmsr cannot refuse crafted ones there (README)')
NO_ONNX = ('ONNX export: onnx, onnxscript and onnxruntime are pinned in the main and newest '
           'stacks only (torch 2.1 has no dynamo exporter)')
NO_TRITON_INTERPRETER = ('the Triton kernel runs under TRITON_INTERPRET=1 (Triton >= 3) on '
                         'the CPU; torch 2.1 comes with Triton 2.1')
NO_CPU_FP16_AUTOCAST = 'torch < 2.2 refuses float16 autocast on the CPU (only bfloat16)'
NO_CUDA = ('GPU test (marker gpu): no CUDA device is visible here; make test runs it where one is '
           '(docs/testing.md, "GPU checks")')

ALLOWED = (NO_ALLOW_LIST, NO_ONNX, NO_TRITON_INTERPRETER, NO_CPU_FP16_AUTOCAST, NO_CUDA)

HAS_ONNX = all(importlib.util.find_spec(name) is not None
               for name in ('onnx', 'onnxscript', 'onnxruntime'))


def _triton_major() -> int:
    if importlib.util.find_spec('triton') is None:
        return 0
    from importlib.metadata import version
    return int(version('triton').split('.')[0])


HAS_TRITON_INTERPRETER = _triton_major() >= 3

_GPU_TESTS = {nodeid: NO_CUDA for nodeid in (
    'tests/models/backbones/test_sr_backbone_cuda.py::'
    'test_training_step_under_autocast_and_channels_last[dtype0]',
    'tests/models/backbones/test_sr_backbone_cuda.py::'
    'test_training_step_under_autocast_and_channels_last[dtype1]',
    'tests/models/backbones/test_sr_backbone_cuda.py::test_torch_compile_equals_eager',
    'tests/models/backbones/test_sr_backbone_cuda.py::'
    'test_syncbn_layers_run_under_a_one_process_nccl_group',
    'tests/models/layers/test_sr_recall_kernel.py::'
    'test_kernel_on_cuda_equals_the_exact_recall_and_add',
    'tests/models/layers/test_sr_recall_kernel.py::'
    'test_the_block_takes_the_kernel_on_cuda_when_asked[None]',
    'tests/models/layers/test_sr_recall_kernel.py::'
    'test_the_block_takes_the_kernel_on_cuda_when_asked[amp1]',
    'tests/models/layers/test_sr_recall_kernel.py::'
    'test_the_block_takes_the_kernel_on_cuda_when_asked[amp2]',
    'tests/reliability/test_cuda_resume.py::'
    'test_resume_on_cuda_within_the_gpus_own_run_to_run_difference',
    'tests/tools/test_install_mmcv.py::test_full_mmcv_runs_its_cuda_ops',
)}

#: ``{stack file: {test id: reason}}``: the tests each stack skips, on a machine without a GPU
#: (with one, the GPU tests run).
EXPECTED = {
    'requirements/stack.txt': dict(_GPU_TESTS),
    'requirements/stack-torch2.1.txt': {
        **_GPU_TESTS,
        'tests/engine/test_safe_checkpoint.py::test_crafted_checkpoint_running_code_is_refused':
            NO_ALLOW_LIST,
        'tests/engine/test_safe_checkpoint.py::test_getattr_is_not_allowed_in_general':
            NO_ALLOW_LIST,
        'tests/engine/test_safe_checkpoint.py::'
        'test_without_import_mmsr_the_same_checkpoint_is_refused': NO_ALLOW_LIST,
        'tests/test_torch_features.py::test_import_mmsr_adds_exactly_its_allow_list':
            NO_ALLOW_LIST,
        'tests/models/layers/test_sr_block.py::test_autocast_softmax_in_fp32_and_finite[dtype1]':
            NO_CPU_FP16_AUTOCAST,
        'tests/models/layers/test_sr_block.py::test_onnx_export_runs_in_onnxruntime[size0]':
            NO_ONNX,
        'tests/models/layers/test_sr_block.py::test_onnx_export_runs_in_onnxruntime[size1]':
            NO_ONNX,
        'tests/models/layers/test_sr_recall_kernel.py::'
        'test_kernel_equals_the_eager_recall_and_add': NO_TRITON_INTERPRETER,
        'tests/models/layers/test_sr_recall_kernel.py::'
        'test_the_block_takes_the_kernel_exactly_where_it_applies': NO_TRITON_INTERPRETER,
    },
    'requirements/stack-torch-newest.txt': dict(_GPU_TESTS),
}
