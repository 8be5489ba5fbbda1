#!/usr/bin/env python
"""Seconds per iteration and peak memory of finished training runs, side by side, each as a
ratio to the first (the baseline): the median of the logged iteration times after --skip
warm-up iterations, read from mmengine's scalars.json in each work dir.

    python tools/analysis_tools/train_time.py work_dirs/deeplabv3 work_dirs/deeplabv3_sr

See :mod:`mmsr.analysis.train_log`.
"""
from mmsr.analysis.train_log import train_speed
from mmsr.cli import exit_with, run_cli, tool_parser, write_json


def main(argv=None) -> int:
    parser = tool_parser(__doc__, config=None)
    parser.add_argument('work_dirs', nargs='+', help='work dirs; the first is the baseline')
    parser.add_argument('--skip', type=int, default=10,
                        help='logged iterations left out at the start (default 10)')
    args = parser.parse_args(argv)

    def run() -> int:
        rows = [train_speed(work_dir, args.skip) for work_dir in args.work_dirs]
        base = rows[0]
        for row in rows:
            row['s_per_iter_ratio'] = row['s_per_iter'] / base['s_per_iter']
            if row['peak_memory_mib'] and base['peak_memory_mib']:
                row['peak_memory_ratio'] = row['peak_memory_mib'] / base['peak_memory_mib']
            memory = f'{row["peak_memory_mib"]:.0f} MiB' if row['peak_memory_mib'] else 'n/a'
            if 'peak_memory_ratio' in row:
                memory += f' ({row["peak_memory_ratio"]:.4f}x)'
            print(f'{row["work_dir"]}: {row["s_per_iter"]:.4f} s/iter '
                  f'({row["s_per_iter_ratio"]:.4f}x) over {row["iterations"]} iterations, data '
                  f'{row["data_s_per_iter"]:.4f} s/iter, peak memory {memory}')
        write_json(args.json, rows)
        return 0

    return run_cli('train_time.py', run)


if __name__ == '__main__':
    exit_with(main())
