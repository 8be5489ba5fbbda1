from .cbam import CBAM
from .drop_block import DropBlock
from .sr_block import SRBlock, SRRemember, SRSqueeze

__all__ = ['SRBlock', 'SRRemember', 'SRSqueeze', 'DropBlock', 'CBAM']
