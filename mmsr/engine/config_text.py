"""A run's config whose formatted text is made once, not each time a runner reads it."""
from __future__ import annotations

from typing import Optional, Union

from mmengine.config import Config


class FormattedOnceConfig(Config):
    """mmengine's ``Config`` whose :attr:`pretty_text` is formatted once per content.

    ``Runner`` reads ``cfg.pretty_text`` when it starts (the log, the dumped config, the
    visualizer) and again for every checkpoint it saves; mmengine formats it with yapf each
    time (about half a second for a Cityscapes config). The text is kept with the config's
    contents it was made from (their ``repr``), so a config changed afterwards is formatted
    again: the text is always the one ``Config`` would give.
    """

    @property
    def pretty_text(self) -> str:
        contents = repr(self._cfg_dict.to_dict())
        kept = self.__dict__.get('_formatted')
        if kept is None or kept[0] != contents:
            kept = (contents, super().pretty_text)
            # Config's __setattr__ writes into the config's contents: the text is kept beside.
            object.__setattr__(self, '_formatted', kept)
        return kept[1]

    @classmethod
    def of(cls, cfg: Optional[Union[Config, dict]]) -> Optional[FormattedOnceConfig]:
        """``cfg`` (a ``Config`` or a dict) as a :class:`FormattedOnceConfig` (sharing its
        contents; ``None`` stays ``None``)."""
        if cfg is None or isinstance(cfg, cls):
            return cfg
        if not isinstance(cfg, Config):
            return cls(cfg)
        formatted_once = cls.__new__(cls)
        formatted_once.__setstate__(cfg.__getstate__())
        return formatted_once
