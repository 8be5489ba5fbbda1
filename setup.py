"""mmsr: the Squeeze-and-Remember block for MMSegmentation and MMPretrain.

The OpenMMLab stack itself (torch, full mmcv built from source, mmsegmentation, mmpretrain) is
installed by ``tools/setup_env.sh`` (``make test`` / ``make demo``) from the pins in
``requirements/stack.txt``; ``install_requires`` lists only what ``import mmsr`` needs besides
torch. Like mmengine, mmsegmentation and mmpretrain, mmsr does not declare torch, so installing
it never changes an environment's torch (and with it the build of mmcv's compiled ops);
``import mmsr`` refuses a torch older than 2.1 with one line (``mmsr/supported.py``).
"""
import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
VERSION = re.search(r"__version__ = '([^']+)'", (HERE / 'mmsr' / 'version.py').read_text())[1]

setup(
    name='mmsr',
    version=VERSION,
    description='Squeeze-and-Remember (SR) block for MMSegmentation and MMPretrain',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmsr', 'mmsr.*']),
    python_requires='>=3.10',
    install_requires=['mmengine>=0.10.0,<1.0'],
    extras_require={
        'seg': ['mmsegmentation>=1.2,<1.3', 'ftfy', 'regex'],
        'cls': ['mmpretrain>=1.2,<1.3'],
        'tests': ['pytest'],
    },
    license='Apache-2.0',
    zip_safe=False,
)
