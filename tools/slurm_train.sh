#!/usr/bin/env bash
# Training on a Slurm cluster, as upstream:
#   GPUS=8 tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]
# Both upstream forms work: mmpretrain's (4th argument WORK_DIR) and mmseg's (options only).
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
if [ -n "$4" ] && [ "${4:0:1}" != "-" ]; then
    WORK_DIR_ARGS="--work-dir=$4"
    PY_ARGS=${@:5}
else
    WORK_DIR_ARGS=""
    PY_ARGS=${@:4}
fi

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    ${PYTHON:-python} -u $(dirname "$0")/train.py ${CONFIG} ${WORK_DIR_ARGS} --launcher="slurm" ${PY_ARGS}
