#!/usr/bin/env bash
# Rebuild the built-in pretrained model (engine/models/pretrained.npz) with the project's own trainer.
# Needs the full MNIST: MNIST_DIR=/path/to/mnist bash scripts/train_pretrained.sh
# Light augmentation (shifts, small rotations, thicker/thinner strokes) makes it read mouse drawings better.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m engine train --layers 784,256,10 --activation relu --loss cross-entropy \
  --optimizer momentum --lr 0.05 --lr-decay 0.95 --momentum 0.9 --batch-size 128 --epochs 20 \
  --augment 0.5 --val-fraction 0 --seed 0 --out engine/models/pretrained.npz
