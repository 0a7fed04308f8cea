#!/usr/bin/env bash
# Rebuild the built-in pretrained model (engine/models/pretrained.npz) with the project's own trainer.
# Needs the full MNIST: MNIST_DIR=/path/to/mnist OPENBLAS_NUM_THREADS=1 bash scripts/train_pretrained.sh
# 1. 20 epochs on MNIST with light augmentation (shifts, small rotations, thicker/thinner strokes).
# 2. 4 more epochs on MNIST plus 10,000 synthetic canvas drawings (engine/drawn.py's wild tier, seeds 100-109;
#    the benchmark draws seed 0), so it reads digits drawn as people draw them (docs/drawn.md).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m engine train --layers 784,256,10 --activation relu --loss cross-entropy \
  --optimizer momentum --lr 0.05 --lr-decay 0.95 --momentum 0.9 --batch-size 128 --epochs 20 \
  --augment 0.5 --val-fraction 0 --seed 0 --out engine/models/pretrained.npz
drawn=$(mktemp --suffix=.npz)
trap 'rm -f "$drawn"' EXIT
python scripts/drawn_training_set.py --seeds 10 --out "$drawn"
python scripts/train_pretrained_cnn.py --mlp --start engine/models/pretrained.npz --drawn-set "$drawn" \
  --epochs 4 --lr 0.005 --lr-decay 0.7 --drawn 0 --out engine/models/pretrained.npz
