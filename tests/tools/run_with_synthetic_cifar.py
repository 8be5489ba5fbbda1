"""``python run_with_synthetic_cifar.py TOOL ARGS...``: run TOOL (a tools/*.py script) on the
synthetic CIFAR pickles of :func:`mmsr.datasets.make_cifar_layout`.

mmpretrain's ``CIFAR10`` / ``CIFAR100`` check the md5 sums of the real archive's files, which
generated pickles cannot match. This clears those sums, and nothing else, then runs TOOL
unchanged: the stock dataset classes still find, unpickle and decode the files themselves.
"""
import runpy
import sys

from mmpretrain.datasets import CIFAR10, CIFAR100

for cifar in (CIFAR10, CIFAR100):
    cifar.train_list = [[name, None] for name, _ in cifar.train_list]
    cifar.test_list = [[name, None] for name, _ in cifar.test_list]
    cifar.meta = dict(cifar.meta, md5=None)

sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
