from .cbam import CBAM
from .drop_block import DropBlock, build_stage_dropout
from .sr_block import SRBlock, SRRemember, SRSqueeze

__all__ = ['SRBlock', 'SRRemember', 'SRSqueeze', 'DropBlock', 'CBAM', 'build_stage_dropout']
