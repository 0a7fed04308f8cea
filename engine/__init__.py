"""Digits from Scratch: a Multi-Layer Perceptron for MNIST in plain NumPy.

    network.py    forward pass, loss, backpropagation
    optim.py      the update step: SGD, momentum, Adam
    layers.py     layers for any stack: Dense, Conv2D, MaxPool2D, Flatten, activations
    convnet.py    a convolutional network: a stack of layers with the MLP's interface
    convolution.py one convolution taken apart: a kernel over one image, hand-made kernels
    trainer.py    mini-batch training in small resumable steps
    augment.py    slightly moved, turned, thicker or thinner training images
    worker.py     a run in a thread of its own, and the line of runs of one server
    cost.py       a run's memory and arithmetic, worked out before it starts
    metrics.py    accuracy, confusion matrix, precision / recall / F1
    analysis.py   inside the network: hidden activations, PCA, robustness
    explain.py    why it said that: input gradients, occlusion, nearest images, fooling, class pictures
    modelfile.py  saving and loading with np.savez (never pickle)
    files.py      atomic writes (a temporary name, then a rename)
    data.py       MNIST: local files, download, built-in sample
    preprocess.py a drawing -> the network's 784 inputs
    drawn.py      synthetic mouse-drawn digits, to test the preprocessing
    cli.py        `python -m engine train | evaluate | predict | download`
"""
from .network import Network, one_hot, softmax
from .trainer import Settings, Trainer, new_run
