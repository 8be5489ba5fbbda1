"""Fault injection for the kill-and-resume tests. With this folder on ``PYTHONPATH``, Python
imports this module at start-up (``sitecustomize``). When ``MMSR_KILL_AT`` is set, to
``<point>:<iteration>``, the process sends SIGKILL to itself the first time that point is
reached once ``runner.iter`` is at least ``<iteration>`` (only on rank ``MMSR_KILL_RANK``,
when set). Points:

* ``train``: before a training iteration;  ``val``: during validation (after its first batch);
* ``save``: as a checkpoint starts being saved (``before_save_checkpoint``);
* ``checkpoint-half``: half of a checkpoint's bytes written;  ``best-half``: the same, for a
  ``save_best`` checkpoint (``best_*.pth``) only;
* ``checkpoint-written``: all of a checkpoint's bytes written, before it is renamed;
* ``pointer``: before ``last_checkpoint`` is replaced;  ``pointer-written``: right after.
"""
import os
import signal

POINT, _, AT = os.environ.get('MMSR_KILL_AT', '').partition(':')
RANK = os.environ.get('MMSR_KILL_RANK')
_progress = {'iter': -1}


def _armed(point: str) -> bool:
    return (POINT == point and _progress['iter'] >= int(AT or 0)
            and RANK in (None, os.environ.get('RANK', '0')))


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install() -> None:
    """Wrap the runner's hook calls, mmengine's local file writes and ``os.replace``."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.runner import Runner

    call_hook_, put_, replace_ = Runner.call_hook, LocalBackend.put, os.replace

    def call_hook(self, fn_name, **kwargs):
        _progress['iter'] = self.iter
        if ((fn_name == 'before_train_iter' and _armed('train'))
                or (fn_name == 'after_val_iter' and _armed('val'))
                or (fn_name == 'before_save_checkpoint' and _armed('save'))):
            _kill()
        return call_hook_(self, fn_name, **kwargs)

    def put(self, obj, filepath):
        is_checkpoint = '.pth' in os.path.basename(str(filepath))
        is_best = os.path.basename(str(filepath)).startswith('best_')
        if is_checkpoint and (_armed('checkpoint-half') or (is_best and _armed('best-half'))):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            _kill()
        put_(self, obj, filepath)
        if is_checkpoint and _armed('checkpoint-written'):
            _kill()

    def replace(src, dst, **kwargs):
        is_pointer = os.path.basename(str(dst)) == 'last_checkpoint'
        if is_pointer and _armed('pointer'):
            _kill()
        replace_(src, dst, **kwargs)
        if is_pointer and _armed('pointer-written'):
            _kill()

    Runner.call_hook, LocalBackend.put, os.replace = call_hook, put, replace


if POINT:
    install()
