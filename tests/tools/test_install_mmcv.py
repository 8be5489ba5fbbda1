"""tools/install_mmcv.py: the installer's decisions, unit by unit (no build, no network)."""
import importlib.util
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location('install_mmcv', REPO / 'tools' / 'install_mmcv.py')
install_mmcv = importlib.util.module_from_spec(spec)
sys.modules['install_mmcv'] = install_mmcv  # dataclasses look their module up
spec.loader.exec_module(install_mmcv)

MMCV_SETUP_SNIPPET = '''import os
from pkg_resources import DistributionNotFound, get_distribution, parse_version
from setuptools import find_packages, setup
extra_compile_args = {'nvcc': [cuda_args, '-std=c++14'] if cuda_args else ['-std=c++14'],
                      'cxx': ['-std=c++14']}
extra_compile_args['cxx'] = ['-std=c++17']
extra_compile_args['cxx'] = ['/std:c++17']
'''


def make_plan(**kw):
    base = dict(mmcv_version='2.1.0', torch_version='2.14.1+cu130', python_tag='cp311',
                cuda=False, cuda_version=None, cxx_std='c++20', jobs=2)
    base.update(kw)
    return install_mmcv.BuildPlan(**base)


def test_versions_come_from_the_one_pin_file():
    assert install_mmcv.pinned_version('mmcv') == '2.1.0'
    assert install_mmcv.pinned_version('torch') == '2.14.1'
    text = (REPO / 'requirements' / 'stack.txt').read_text()
    for package in ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmsegmentation', 'mmpretrain',
                    'ftfy', 'regex'):
        assert f'{package}==' in text


def test_missing_pin_is_a_clear_error(tmp_path):
    stack = tmp_path / 'stack.txt'
    stack.write_text('torch==2.14.1\n')
    with pytest.raises(install_mmcv.InstallError, match='mmcv is not pinned'):
        install_mmcv.pinned_version('mmcv', stack)


def test_cxx_standard_read_from_torch_headers(tmp_path):
    new = tmp_path / 'new'
    (new / 'ATen').mkdir(parents=True)
    (new / 'ATen' / 'ATen.h').write_text(
        '#if !defined(__cplusplus) || __cplusplus < 202002L\n'
        '#error C++20 or later compatible compiler is required to use ATen.\n#endif\n')
    old = tmp_path / 'old'
    (old / 'ATen').mkdir(parents=True)
    (old / 'ATen' / 'ATen.h').write_text('#error C++17 or later compatible compiler is required')
    assert install_mmcv.required_cxx_std([str(new)]) == 'c++20'
    assert install_mmcv.required_cxx_std([str(old)]) == 'c++17'
    assert install_mmcv.required_cxx_std([]) == 'c++17'


def torch_cxx_std():
    """The standard the installed torch's headers need: C++20 from torch 2.10 on (each test
    lane has another torch)."""
    import torch
    major_minor = tuple(int(v) for v in torch.__version__.split('+')[0].split('.')[:2])
    return 'c++20' if major_minor >= (2, 10) else 'c++17'


def test_installed_torch_standard_is_read_from_its_headers():
    from torch.utils import cpp_extension
    assert install_mmcv.required_cxx_std(cpp_extension.include_paths()) == torch_cxx_std()


def test_setup_py_patch_replaces_standard_and_pkg_resources():
    patched = install_mmcv.patch_setup_py(MMCV_SETUP_SNIPPET, 'c++20')
    assert 'pkg_resources' not in patched
    assert 'c++14' not in patched and 'c++17' not in patched
    assert patched.count('-std=c++20') == 4 and '/std:c++20' in patched
    namespace = {}
    exec(patched.split('from setuptools')[0], namespace)  # the replaced imports work
    assert namespace['parse_version']('2.14.1') > namespace['parse_version']('2.0.0')
    with pytest.raises(namespace['DistributionNotFound']):
        namespace['get_distribution']('surely-not-installed-package-xyz')


def test_setup_py_with_unknown_pkg_resources_use_is_refused():
    with pytest.raises(install_mmcv.InstallError, match='unexpected way'):
        install_mmcv.patch_setup_py('import pkg_resources\n', 'c++20')


@pytest.mark.parametrize('force,nvcc,torch_cuda,gpu,expected', [
    ('auto', '/usr/bin/nvcc', '13.0', True, True),     # GPU machine with a toolkit
    ('auto', '/usr/bin/nvcc', '13.0', False, False),   # toolkit but no GPU: CPU ops
    ('auto', None, '13.0', True, False),               # GPU but no nvcc: CPU ops
    ('auto', '/usr/bin/nvcc', None, False, False),     # CPU-only torch
    ('0', '/usr/bin/nvcc', '13.0', True, False),       # forced off
    ('1', '/usr/bin/nvcc', '13.0', False, True),       # forced on (GPU-less build box)
])
def test_cuda_decision(force, nvcc, torch_cuda, gpu, expected):
    assert install_mmcv.decide_cuda(force, nvcc, torch_cuda, gpu) is expected


def test_cuda_forced_without_toolkit_or_cuda_torch_is_a_clear_error():
    with pytest.raises(install_mmcv.InstallError, match='nvcc is not on PATH'):
        install_mmcv.decide_cuda('1', None, '13.0', True)
    with pytest.raises(install_mmcv.InstallError, match='CPU-only build'):
        install_mmcv.decide_cuda('1', '/usr/bin/nvcc', None, True)
    with pytest.raises(install_mmcv.InstallError, match='must be auto, 1 or 0'):
        install_mmcv.decide_cuda('yes', None, None, False)


@pytest.mark.parametrize('requested,capabilities,expected', [
    (None, [(9, 0)], '9.0'),                        # one H100: its architecture only
    (None, [(8, 0), (9, 0), (8, 0)], '8.0;9.0'),    # mixed GPUs, each once
    ('8.6+PTX', [(9, 0)], '8.6+PTX'),               # the user's list wins
    ('8.0; 9.0a', [], '8.0;9.0a'),                  # a GPU-less build box with a list
])
def test_cuda_arch_decision(requested, capabilities, expected):
    assert install_mmcv.decide_cuda_arch(requested, capabilities) == expected


def test_cuda_arch_without_gpu_or_with_a_bad_list_is_a_clear_error():
    with pytest.raises(install_mmcv.InstallError, match='--cuda-arch 9.0'):
        install_mmcv.decide_cuda_arch(None, [])
    with pytest.raises(install_mmcv.InstallError, match='expected compute capabilities'):
        install_mmcv.decide_cuda_arch('sm_90', [(9, 0)])


def test_the_installed_check_runs_an_op_on_cuda_tensors_for_a_cuda_build():
    assert '.cuda()' in install_mmcv.check_code(cuda=True)
    assert '.cuda()' not in install_mmcv.check_code(cuda=False)
    # The CPU part runs here, against the installed mmcv when it has ops.
    if importlib.util.find_spec('mmcv') and importlib.util.find_spec('mmcv._ext'):
        out = subprocess.run([sys.executable, '-c', install_mmcv.check_code(cuda=True)],
                             capture_output=True, text=True)
        assert out.returncode == 0 and 'ops OK' in out.stdout, out.stderr[-2000:]


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(install_mmcv.shutil, 'which', lambda name: None)
    with pytest.raises(install_mmcv.InstallError, match='No C\\+\\+ compiler found'):
        install_mmcv.find_compiler({})


def test_cache_key_separates_torch_python_and_flavour(tmp_path):
    cpu = make_plan()
    assert cpu.cache_key == 'mmcv-2.1.0-cp311-torch2.14.1-cpu'
    cuda = make_plan(cuda=True, cuda_version='13.0', cuda_arch='9.0')
    assert cuda.cache_key == 'mmcv-2.1.0-cp311-torch2.14.1-cu130-sm90'
    assert make_plan(cuda=True, cuda_version='13.0', cuda_arch='8.0;8.6+PTX').cache_key == \
        'mmcv-2.1.0-cp311-torch2.14.1-cu130-sm80_sm86ptx'
    assert make_plan(torch_version='2.9.1').cache_key != cpu.cache_key
    assert make_plan(python_tag='cp312').cache_key != cpu.cache_key


def test_cached_wheel_is_reused_only_for_the_same_build(tmp_path):
    plan = make_plan()
    assert install_mmcv.cached_wheel(tmp_path, plan) is None
    folder = tmp_path / plan.cache_key
    folder.mkdir()
    wheel = folder / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl'
    wheel.write_bytes(b'')
    assert install_mmcv.cached_wheel(tmp_path, plan) == wheel
    assert install_mmcv.cached_wheel(tmp_path, make_plan(torch_version='2.13.0')) is None


def test_sdist_link_from_simple_index_page():
    page = ('<a href="https://files.example/aa/mmcv-2.0.0.tar.gz#sha256=11">mmcv-2.0.0.tar.gz</a>'
            '<a href="../../packages/bb/mmcv-2.1.0.tar.gz#sha256=22">mmcv-2.1.0.tar.gz</a>')
    url = install_mmcv.sdist_link(page, 'https://mirror.example/simple/mmcv/', 'mmcv-2.1.0.tar.gz')
    assert url == 'https://mirror.example/packages/bb/mmcv-2.1.0.tar.gz'
    with pytest.raises(install_mmcv.InstallError, match='is not listed'):
        install_mmcv.sdist_link(page, 'https://x/simple/mmcv/', 'mmcv-9.9.9.tar.gz')


def test_cached_sdist_with_wrong_hash_is_deleted_and_refused(tmp_path, monkeypatch):
    target = tmp_path / 'sdist' / 'mmcv-2.1.0.tar.gz'
    target.parent.mkdir()
    target.write_bytes(b'not the real mmcv')
    with pytest.raises(install_mmcv.InstallError, match='corrupt or tampered'):
        install_mmcv.fetch_source('2.1.0', tmp_path)
    assert not target.exists()


@pytest.mark.parametrize('has_data_filter', [True, False])
def test_source_unpacks_with_and_without_tarfiles_data_filter(tmp_path, monkeypatch,
                                                               has_data_filter):
    """Pythons before 3.10.12 / 3.11.4 have no ``filter`` argument (``TypeError`` if given)."""
    source = tmp_path / 'mmcv-2.1.0'
    source.mkdir()
    (source / 'setup.py').write_text('# mmcv')
    sdist = tmp_path / 'mmcv-2.1.0.tar.gz'
    with tarfile.open(sdist, 'w:gz') as tar:
        tar.add(source, arcname=source.name)
    if not has_data_filter:
        monkeypatch.delattr(tarfile, 'data_filter', raising=False)
        monkeypatch.setattr(tarfile.TarFile, 'extractall', without_filter_argument(
            tarfile.TarFile.extractall))
    install_mmcv.extract_source(sdist, str(tmp_path / 'out'))
    assert (tmp_path / 'out' / 'mmcv-2.1.0' / 'setup.py').read_text() == '# mmcv'


def without_filter_argument(extractall):
    """``TarFile.extractall`` as Python 3.11.2 has it: no ``filter`` keyword."""
    def extractall_before_3_11_4(self, path='.', members=None, *, numeric_owner=False):
        return extractall(self, path, members, numeric_owner=numeric_owner)
    return extractall_before_3_11_4


def test_dry_run_prints_decisions(capsys, tmp_path):
    assert install_mmcv.main(['--dry-run', '--cuda', '0', '--cache-dir', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f'mmcv 2.1.0: cpu ops, -std={torch_cxx_std()}' in out and str(tmp_path) in out


def test_setup_env_pins_and_reuse_logic_are_wired():
    """make test -> tools/setup_env.sh -> tools/install_mmcv.py, with the pin file as
    constraints and a stamp that makes a second run a no-op."""
    makefile = (REPO / 'Makefile').read_text()
    assert 'bash tools/setup_env.sh' in makefile and '$(PYTEST) tests' in makefile
    script = (REPO / 'tools' / 'setup_env.sh').read_text()
    assert 'tools/install_mmcv.py' in script and '-c "$STACK"' in script
    assert 'is up to date' in script
    ci = (REPO / '.ci' / 'run').read_text()
    assert 'make test' in ci and 'set -euo pipefail' in ci
    assert '.venv*/' in (REPO / '.gitignore').read_text()  # .venv/ and the lanes' .venv-*/


def test_pch_wrapper_precompiles_the_header_once_with_the_builds_flags(tmp_path):
    """The wrapper of a CPU build: the first compile builds ``<header>.gch`` from that compile's
    flags (less the dependency file, the source and the output), every compile includes the
    header first, and other calls (linking) reach the compiler unchanged. The compiler here is
    a script that records its arguments."""
    calls = tmp_path / 'calls'
    compiler = tmp_path / 'recording-c++'
    compiler.write_text('#!/bin/sh\necho "$@" >> ' + str(calls) + '\n'
                        'for a; do [ "$prev" = -o ] && touch "$a"; prev=$a; done\n')
    compiler.chmod(0o755)
    header = tmp_path / 'pytorch_cpp_helper.hpp'
    header.write_text('#pragma once\n')
    wrapper = install_mmcv.write_pch_wrapper(tmp_path, str(compiler), header)
    for source in ('a.cpp', 'b.cpp'):
        subprocess.run([str(wrapper), '-MMD', '-MF', f'{source}.o.d', '-I/inc', '-O3', '-c',
                        source, '-o', f'{source}.o', '-std=c++20'], check=True, cwd=tmp_path)
    subprocess.run([str(wrapper), '-shared', 'a.cpp.o', 'b.cpp.o', '-o', '_ext.so'], check=True,
                   cwd=tmp_path)
    lines = calls.read_text().splitlines()
    assert lines == [
        f'-I/inc -O3 -std=c++20 -x c++-header {header} -o {header}.gch.tmp',
        f'-include {header} -MMD -MF a.cpp.o.d -I/inc -O3 -c a.cpp -o a.cpp.o -std=c++20',
        f'-include {header} -MMD -MF b.cpp.o.d -I/inc -O3 -c b.cpp -o b.cpp.o -std=c++20',
        '-shared a.cpp.o b.cpp.o -o _ext.so']
    assert (tmp_path / f'{header.name}.gch').is_file()


@pytest.mark.gpu
def test_full_mmcv_runs_its_cuda_ops():
    """The installed mmcv has CUDA ops for this GPU: nms and roi_align on CUDA tensors equal
    the CPU ops."""
    import torch
    from mmcv.ops import nms, roi_align
    torch.manual_seed(0)
    xy = torch.rand(64, 2) * 50
    boxes = torch.cat([xy, xy + torch.rand(64, 2) * 30 + 1], 1)
    scores = torch.rand(64)
    keep_cpu = nms(boxes, scores, 0.5)[1]
    keep_cuda = nms(boxes.cuda(), scores.cuda(), 0.5)[1]
    assert keep_cuda.is_cuda and keep_cuda.cpu().tolist() == keep_cpu.tolist()
    features = torch.randn(2, 8, 32, 32)
    rois = torch.cat([torch.tensor([[0.], [1.], [1.]]), boxes[:3] / 3], 1)
    pooled = roi_align(features, rois, (7, 7), 1.0, 2, 'avg', True)
    pooled_cuda = roi_align(features.cuda(), rois.cuda(), (7, 7), 1.0, 2, 'avg', True)
    torch.testing.assert_close(pooled_cuda.cpu(), pooled, rtol=1e-5, atol=1e-5)
