"""What the SR memory recalls, from a trained model and a dataset: the paper's Figures 2-7.

For every SR block of the model, over the images of a dataset, per chosen class and over all
images:

* **softmax weights** (Figures 2, 5-7): mean and std over images of the weights ``w`` (B x P)
  the block gives its P memory blocks;
* **channel activation** (Figure 3): the channel-wise mean activation of the block's input
  ``X`` and output ``Y = X + Mbar`` (each image's mean over positions, averaged over the
  images), their delta, the delta in % of the mean absolute input activation
  (``relative_delta``), and its mean absolute value, the class's **relative shift** (the
  paper's "shift by 2% to 10%"; the paper does not say what its percentage is relative to);
* **memory channel activity** (Figure 4): the mean over positions of each memory block
  ``M_i`` per channel (from the weights alone).

An image belongs to a class when it is labelled so (classifiers) or when its ground truth has
pixels of that class (segmentors).
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from torch import Tensor, nn

from ..errors import ConfigError
from .sr_models import sr_blocks

#: The classes the paper analyses (ImageNet), matched against the dataset's class names.
PAPER_CLASSES = ('goldfish', 'pug', 'airliner', 'cliff', 'church')


def image_classes(data_sample, num_classes: int) -> List[int]:
    """Class indices an image belongs to: its label(s), or the classes in its ground truth."""
    if hasattr(data_sample, 'gt_label'):
        return [int(label) for label in data_sample.gt_label.view(-1).tolist()]
    labels = data_sample.gt_sem_seg.data.unique().tolist()
    return [int(label) for label in labels if 0 <= label < num_classes]


class _Running:
    """Sum and sum of squares of vectors, for means and stds."""

    def __init__(self) -> None:
        self.count, self.total, self.squares = 0, 0.0, 0.0

    def add(self, rows: np.ndarray) -> None:
        rows = rows.astype(np.float64)
        self.count += rows.shape[0]
        self.total = self.total + rows.sum(0)
        self.squares = self.squares + (rows**2).sum(0)

    def mean(self) -> List[float]:
        return (np.asarray(self.total) / max(self.count, 1)).tolist()

    def std(self) -> List[float]:
        mean = np.asarray(self.total) / max(self.count, 1)
        var = np.asarray(self.squares) / max(self.count, 1) - mean**2
        return np.sqrt(np.clip(var, 0, None)).tolist()


def channel_activation(before: np.ndarray, after: np.ndarray) -> Dict[str, object]:
    """Figure 3's numbers from the channel means before and after the block."""
    delta = after - before
    scale = np.abs(before).mean()
    relative = 100.0 * delta / scale if scale > 0 else np.zeros_like(delta)
    return dict(before=before.tolist(), after=after.tolist(), delta=delta.tolist(),
                relative_delta=relative.tolist(),
                relative_shift=float(np.abs(relative).mean()))


class MemoryRecallCollector:
    """Forward hooks on every SR block that accumulate the statistics above, per class."""

    KINDS = ('weights', 'before', 'after')

    def __init__(self, model: nn.Module) -> None:
        self.blocks = sr_blocks(model)
        if not self.blocks:
            raise ConfigError('the model has no SR block to analyse.')
        #: block name -> kind -> class index or 'all' -> running sums of per-image rows
        self.stats = {name: {kind: defaultdict(_Running) for kind in self.KINDS}
                      for name, _ in self.blocks}
        self._batch: Dict[str, Dict[str, np.ndarray]] = defaultdict(dict)
        self._handles = []
        for name, block in self.blocks:
            # The block's own remember step reports the weights it computed (no second pass).
            self._handles += [block.remember.register_forward_hook(self._weights_hook(name)),
                              block.register_forward_hook(self._activation_hook(name))]

    def _weights_hook(self, name: str):
        def hook(remember, inputs, weights: Tensor) -> None:
            self._batch[name]['weights'] = weights.float().cpu().numpy()
        return hook

    def _activation_hook(self, name: str):
        def hook(block, inputs, output: Tensor) -> None:
            self._batch[name]['before'] = inputs[0].float().mean((2, 3)).cpu().numpy()
            self._batch[name]['after'] = output.float().mean((2, 3)).cpu().numpy()
        return hook

    @property
    def seen_classes(self) -> List[int]:
        """The classes at least one image belonged to."""
        name = self.blocks[0][0]
        return sorted(label for label in self.stats[name]['weights'] if label != 'all')

    def add_labels(self, classes_per_image: Sequence[Sequence[int]]) -> None:
        """Assign the batch just run to ``'all'`` and to each image's classes."""
        for name, batch in self._batch.items():
            for kind, rows in batch.items():
                stats = self.stats[name][kind]
                stats['all'].add(rows)
                for row, classes in zip(rows, classes_per_image):
                    for label in set(classes):
                        stats[label].add(row[None])
        self._batch = defaultdict(dict)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def results(self, class_names: Sequence[str], chosen: Sequence[int]) -> Dict[str, object]:
        out: Dict[str, object] = {}
        for name, block in self.blocks:
            stats = self.stats[name]
            weights, activation = {}, {}
            for label in ['all', *chosen]:
                if label not in stats['weights']:
                    continue  # no image of the class
                key = 'all' if label == 'all' else class_names[label]
                runs = stats['weights'][label]
                weights[key] = dict(images=runs.count, mean=runs.mean(), std=runs.std())
                activation[key] = dict(images=runs.count, **channel_activation(
                    np.asarray(stats['before'][label].mean()),
                    np.asarray(stats['after'][label].mean())))
            out[name] = dict(
                num_memory_blocks=block.num_memory_blocks, in_channels=block.in_channels,
                memory_size=list(block.memory_size), softmax_weights=weights,
                channel_activation=activation,
                memory_channel_activity=block.memory.detach().float().cpu().mean(
                    (2, 3)).tolist())
        return out


def choose_classes(class_names: Sequence[str], wanted: Optional[Sequence[str]],
                   present: Sequence[int], limit: int = 5) -> List[int]:
    """Indices of the wanted classes (names, name prefixes or indices); by default the paper's
    five where the dataset has them, else the first ``limit`` classes that occur."""
    def find(token: str) -> Optional[int]:
        if token.isdigit() and int(token) < len(class_names):
            return int(token)
        token = token.lower()
        for index, name in enumerate(class_names):
            if token in [part.strip().lower() for part in str(name).split(',')]:
                return index
        return None

    if wanted:
        indices = []
        for token in wanted:
            index = find(token)
            if index is None:
                raise ConfigError(f'--classes: {token!r} is not a class of the dataset (give a '
                                  f'name, e.g. {class_names[0]!r}, or an index).')
            indices.append(index)
        return indices
    paper = [find(token) for token in PAPER_CLASSES]
    if all(index is not None for index in paper):
        return paper  # type: ignore[return-value]
    return sorted(set(present))[:limit]


def plot(results: Dict[str, object], out_dir: Path) -> List[Path]:
    """One PNG per figure and SR block; returns their paths."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    written = []
    for name, block in results.items():
        tag = name.replace('.', '_')
        weights = block['softmax_weights']
        fig, ax = plt.subplots(figsize=(7, 3.5))
        width = 0.8 / max(len(weights), 1)
        positions = np.arange(block['num_memory_blocks'])
        for i, (label, stats) in enumerate(weights.items()):
            ax.bar(positions + i * width, stats['mean'], width, yerr=stats['std'], capsize=2,
                   label=f'{label} ({stats["images"]})')
        ax.set_xticks(positions + 0.4 - width / 2, [str(p + 1) for p in positions])
        ax.set(xlabel='memory block', ylabel='softmax weight (mean, std)',
               title=f'{name}: memory weights per class')
        ax.legend(fontsize=7)
        written.append(_save(fig, out_dir / f'{tag}_softmax_weights.png'))

        activation = block['channel_activation']
        fig, axes = plt.subplots(len(activation), 2, figsize=(11, 2.2 * len(activation) + 0.6),
                                 sharex=True, squeeze=False)
        for (left, right), (label, stats) in zip(axes, activation.items()):
            left.plot(stats['before'], linewidth=0.7, label='before SR')
            left.plot(stats['after'], linewidth=0.7, label='after SR')
            left.set_ylabel(f'{label} ({stats["images"]})', fontsize=8)
            right.plot(stats['relative_delta'], linewidth=0.7, color='tab:green')
            right.axhline(0, color='gray', linewidth=0.5)
            right.set_title(f'delta, % of the mean activation: shift '
                            f'{stats["relative_shift"]:.2f}%', fontsize=8)
        axes[0, 0].legend(fontsize=7)
        axes[0, 0].set_title(f'{name}: channel-wise mean activation', fontsize=9)
        for ax in axes[-1]:
            ax.set_xlabel('channel')
        written.append(_save(fig, out_dir / f'{tag}_channel_activation.png'))

        activity = np.asarray(block['memory_channel_activity'])
        rows = activity.shape[0]
        fig, axes = plt.subplots(rows, 1, figsize=(8, 1.2 * rows + 1), sharex=True,
                                 squeeze=False)
        for index, ax in enumerate(axes[:, 0]):
            ax.plot(activity[index], linewidth=0.7)
            ax.set_ylabel(f'M{index + 1}', fontsize=8)
        axes[0, 0].set_title(f'{name}: mean channel activity of each memory block')
        axes[-1, 0].set_xlabel('channel')
        written.append(_save(fig, out_dir / f'{tag}_memory_channel_activity.png'))
    return written


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path
