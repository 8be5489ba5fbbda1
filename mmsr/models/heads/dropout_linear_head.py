"""A linear classification head with dropout before the classifier (the paper's "+ D")."""
from typing import Tuple

from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from torch import Tensor, nn

from ...errors import ConfigError


@MODELS.register_module()
class DropoutLinearClsHead(LinearClsHead):
    """``LinearClsHead`` that applies ``nn.Dropout(dropout_rate)`` to the pooled features
    before the fully connected classifier (training only). ``dropout_rate=0`` is exactly
    ``LinearClsHead``. Shapes: ``(B, C) -> (B, num_classes)``."""

    def __init__(self, num_classes: int, in_channels: int, dropout_rate: float = 0.5,
                 **kwargs) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        if not 0.0 <= dropout_rate < 1.0:
            raise ConfigError(f'DropoutLinearClsHead: dropout_rate must be in [0, 1), '
                              f'got {dropout_rate!r}.')
        self.dropout_rate = dropout_rate
        self.dropout = nn.Dropout(dropout_rate)

    def pre_logits(self, feats: Tuple[Tensor]) -> Tensor:
        return self.dropout(super().pre_logits(feats))
