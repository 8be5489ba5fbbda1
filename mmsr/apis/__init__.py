"""Entry points behind the repo's ``tools/``."""
from .upstream_tools import (adapt_for_cpu_distributed, check_data_paths, detect_codebase,
                             disable_sr, load_config, run_tool, upstream_tool)

__all__ = ['adapt_for_cpu_distributed', 'check_data_paths', 'detect_codebase', 'disable_sr',
           'load_config', 'run_tool', 'upstream_tool']
