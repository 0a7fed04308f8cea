"""Digits from Scratch: a Multi-Layer Perceptron for MNIST in plain NumPy.

    network.py   forward pass, loss, backpropagation
    optim.py     the update step: SGD, momentum, Adam
    trainer.py   mini-batch training in small resumable steps
    metrics.py   accuracy, confusion matrix, precision / recall / F1
    modelfile.py saving and loading with np.savez (never pickle)
    data.py      MNIST: local files, download, built-in sample
    preprocess.py a drawing -> the network's 784 inputs
"""
from .network import Network, one_hot, softmax
from .trainer import Settings, Trainer, new_run
