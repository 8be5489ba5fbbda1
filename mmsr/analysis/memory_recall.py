"""What the SR memory recalls, from a trained model and a dataset: the paper's Figures 2-7.

For every SR block of the model, over the images of a dataset:

* **softmax weights** (Figures 2, 5-7): mean and std over images of the weights ``w`` (B x P)
  the block gives its P memory blocks, per chosen class and over all images;
* **channel activation** (Figure 3): the channel-wise mean of the block's input ``X`` and
  output ``Y = X + Mbar`` (mean over images and positions), and their delta;
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
        self.count += rows.shape[0]
        self.total = self.total + rows.sum(0)
        self.squares = self.squares + (rows.astype(np.float64)**2).sum(0)

    def mean(self) -> List[float]:
        return (np.asarray(self.total) / max(self.count, 1)).tolist()

    def std(self) -> List[float]:
        mean = np.asarray(self.total) / max(self.count, 1)
        var = np.asarray(self.squares) / max(self.count, 1) - mean**2
        return np.sqrt(np.clip(var, 0, None)).tolist()


class MemoryRecallCollector:
    """Forward hooks on every SR block that accumulate the statistics above."""

    def __init__(self, model: nn.Module) -> None:
        self.blocks = sr_blocks(model)
        if not self.blocks:
            raise ConfigError('the model has no SR block to analyse.')
        self.weights = {name: defaultdict(_Running) for name, _ in self.blocks}
        self.before = {name: _Running() for name, _ in self.blocks}
        self.after = {name: _Running() for name, _ in self.blocks}
        self._batch: Dict[str, Tensor] = {}
        self._handles = []
        for name, block in self.blocks:
            # The block's own remember step reports the weights it computed (no second pass).
            self._handles += [block.remember.register_forward_hook(self._weights_hook(name)),
                              block.register_forward_hook(self._activation_hook(name))]

    def _weights_hook(self, name: str):
        def hook(remember, inputs, weights: Tensor) -> None:
            self._batch[name] = weights.float().cpu()
        return hook

    def _activation_hook(self, name: str):
        def hook(block, inputs, output: Tensor) -> None:
            self.before[name].add(inputs[0].float().mean((2, 3)).cpu().numpy())
            self.after[name].add(output.float().mean((2, 3)).cpu().numpy())
        return hook

    def add_labels(self, classes_per_image: Sequence[Sequence[int]]) -> None:
        """Assign the weights of the batch just run to ``'all'`` and to each image's classes."""
        for name, weights in self._batch.items():
            rows = weights.numpy()
            self.weights[name]['all'].add(rows)
            for row, classes in zip(rows, classes_per_image):
                for label in set(classes):
                    self.weights[name][label].add(row[None])
        self._batch = {}

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def results(self, class_names: Sequence[str], chosen: Sequence[int]) -> Dict[str, object]:
        out: Dict[str, object] = {}
        for name, block in self.blocks:
            memory = block.memory.detach().float().cpu()
            per_class = {}
            for label in ['all', *chosen]:
                stats = self.weights[name].get(label)
                if stats is None or stats.count == 0:
                    continue
                key = 'all' if label == 'all' else class_names[label]
                per_class[key] = dict(images=stats.count, mean=stats.mean(), std=stats.std())
            before, after = np.asarray(self.before[name].mean()), np.asarray(
                self.after[name].mean())
            out[name] = dict(
                num_memory_blocks=block.num_memory_blocks, in_channels=block.in_channels,
                memory_size=list(block.memory_size), softmax_weights=per_class,
                channel_mean_before=before.tolist(), channel_mean_after=after.tolist(),
                channel_mean_delta=(after - before).tolist(),
                memory_channel_activity=memory.mean((2, 3)).tolist())
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

        fig, axes = plt.subplots(3, 1, figsize=(8, 6), sharex=True)
        for ax, key, title in zip(axes, ('channel_mean_before', 'channel_mean_after',
                                         'channel_mean_delta'),
                                  ('before the SR block', 'after the SR block', 'delta')):
            ax.plot(block[key], linewidth=0.7)
            ax.set_ylabel(title, fontsize=8)
        axes[0].set_title(f'{name}: channel-wise mean activation')
        axes[-1].set_xlabel('channel')
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
