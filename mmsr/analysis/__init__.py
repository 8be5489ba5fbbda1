"""Analyses of SR models: complexity against the baseline, speed, and what the memory recalls.

Needs the codebase of the analysed config (mmseg or mmpretrain) installed."""
from .complexity import complexity_report, format_report
from .sr_models import build_model, build_sr_and_baseline, remove_sr, sr_blocks

__all__ = ['complexity_report', 'format_report', 'build_model', 'build_sr_and_baseline',
           'remove_sr', 'sr_blocks']
