"""What the repo's command-line tools share, and how ``tools/train.py`` and ``tools/test.py``
run the upstream scripts (:mod:`.upstream_tools`).

Every tool that reads a config takes it as its first argument with ``--cfg-options``, writes
its report with ``--json``, and prints bad input (an :class:`~mmsr.errors.MMSRError`) as one
line ``<tool>: error: ...`` with exit status 2, never as a traceback. Run as programs, they end
with :func:`exit_with`.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Callable, NoReturn, Optional

from mmengine.config import Config, DictAction

from ..errors import MMSRError, error_message
from ..utils.config import load_config


def tool_parser(doc: str, config: Optional[str] = 'required', json_report: bool = True
                ) -> argparse.ArgumentParser:
    """An argument parser described by the first paragraph of ``doc``, with ``--json`` when
    asked for, and the config with ``--cfg-options`` (see :func:`parsed_config`): ``config``
    is ``'required'`` or ``'optional'`` (the first argument), ``'option'`` (``--config``) or
    ``None`` (no config)."""
    parser = argparse.ArgumentParser(description=doc.split('\n\n')[0])
    if config is not None:
        help_text = 'an mmseg or mmpretrain config file'
        if config == 'option':
            parser.add_argument('--config', help=help_text)
        else:
            parser.add_argument('config', nargs='?' if config == 'optional' else None,
                                help=help_text)
        parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                            help='override settings of the config, as in the upstream tools')
    if json_report:
        parser.add_argument('--json', help='also write the results to this JSON file')
    return parser


def generator_parser(doc: str, files: str) -> argparse.ArgumentParser:
    """The parser of a tool that generates ``files`` (their names, for the help): without an
    option it prints them, ``--write`` writes them, ``--check`` exits 1 if one is out of date."""
    parser = tool_parser(doc, config=None, json_report=False)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--write', action='store_true', help=f'write {files}')
    group.add_argument('--check', action='store_true',
                       help=f'exit 1 if {files} are not what would be written')
    return parser


def parsed_config(args: argparse.Namespace) -> Config:
    """The config of a :func:`tool_parser` command line, ``--cfg-options`` applied."""
    return load_config(args.config, args.cfg_options)


def write_json(path: Optional[str], report: object) -> None:
    """Write ``report`` to ``path`` (the ``--json`` argument) if one was given."""
    if path:
        Path(path).write_text(json.dumps(report, indent=2))


def run_cli(prog: str, main: Callable[[], int]) -> int:
    """``main()``, with an :class:`MMSRError` printed as one line and exit status 2."""
    try:
        return main()
    except MMSRError as error:
        print(f'{prog}: error: {error_message(error)}', file=sys.stderr)
        return 2


def exit_with(code: int) -> NoReturn:
    """``sys.exit(code)`` at the end of a tool run as a program, after moving every object
    still alive out of the garbage collector's reach (``gc.freeze``): the interpreter's exit
    then does not walk them all once more (about a second after a training). The ``atexit``
    handlers, the flushing of files and the modules' teardown run as always."""
    gc.freeze()
    sys.exit(code)
