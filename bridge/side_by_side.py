"""Each idea of the engine next to the PyTorch lines that do the same: the PyTorch page's lesson.

STEPS, in order. Each step's code is real: all the engine snippets one after the other form a
program, and so do all the PyTorch snippets (tests/test_pytorch_page.py runs both), so what the
page shows is code that runs.
"""
from typing import NamedTuple

from i18n import N_


class Step(NamedTuple):
    title: str
    text: str       # what is the same, what differs, and why (markdown)
    engine: str     # the NumPy engine's code
    torch: str      # the PyTorch code doing the same


STEPS = [
    Step(N_("The data"),
         N_("The same digits on both sides: 784 numbers between 0 and 1 per image. The engine wants the labels "
            "one-hot; PyTorch's losses take the class numbers (as 64-bit integers) and do the one-hot themselves."),
         """\
import numpy as np
from engine.data import load_sample, to_float
from engine.network import Network, one_hot

data = load_sample()
# (64, 784) float32 in [0, 1]
x = to_float(data.x_train[:64])
# (64, 10) one-hot rows
y = one_hot(data.y_train[:64])""",
         """\
import torch
import torch.nn.functional as F
from torch import nn
from engine.data import load_sample, to_float

data = load_sample()
# (64, 784) float32 in [0, 1]
x = torch.from_numpy(to_float(data.x_train[:64]))
# (64,) class numbers
labels = torch.tensor(data.y_train[:64]).long()"""),
    Step(N_("The model"),
         N_("`nn.Linear(784, 256)` is one of our layers: it holds `weight` (256, 784) and `bias` (256,), the same "
            "shapes as the engine's `W` and `b`, and computes `x @ W.T + b`. `nn.Sequential` chains modules, as the "
            "engine's loop over layers does. The output layer has no softmax here: the loss adds it."),
         """\
net = Network([784, 256, 10], activation="relu",
              loss="cross-entropy", seed=0)
print(net.weights[0].shape)    # (256, 784)""",
         """\
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 256),
                      nn.ReLU(),
                      nn.Linear(256, 10))
print(model[0].weight.shape)   # [256, 784]"""),
    Step(N_("A CNN"),
         N_("A convolution's filters are (filters, channels, k, k) on both sides, and both flatten the feature maps "
            "in the same order (channel, row, column), so a CNN's weights also copy across as they are. "
            "`nn.Unflatten` turns the 784-number rows back into 1×28×28 images, as the engine does inside."),
         """\
from engine.convnet import ConvNet, cnn_spec

# conv 5x5 and max-pool 2, twice; then dense 10
cnn = ConvNet(cnn_spec(filters=(16, 64)))
print(cnn.describe())""",
         """\
cnn = nn.Sequential(
    nn.Unflatten(1, (1, 28, 28)),
    nn.Conv2d(1, 16, 5), nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 64, 5), nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 4 * 4, 10))
print(cnn(x).shape)            # [64, 10]"""),
    Step(N_("The same weights"),
         N_("To compare the two, the PyTorch model gets the engine's numbers: no transposing, no reordering. "
            "`torch.no_grad()` because copying is not part of the maths to differentiate."),
         """\
# (256, 784) and (256,)
W0, b0 = net.weights[0], net.biases[0]""",
         """\
from engine.network import Network

# the engine's network
net = Network([784, 256, 10], seed=0)
linears = [model[0], model[2]]
with torch.no_grad():
    for layer, W, b in zip(linears, net.weights,
                           net.biases):
        layer.weight.copy_(torch.from_numpy(W))
        layer.bias.copy_(torch.from_numpy(b))"""),
    Step(N_("Forward"),
         N_("Calling the model runs its forward pass. PyTorch also records every operation, so that it can run them "
            "backwards later; the engine keeps what backward needs with `keep=True`."),
         """\
zs, acts = net.forward(x, keep=True)
z = zs[-1]         # the logits (64, 10)""",
         """\
# the logits (64, 10), recorded for backward
z = model(x)"""),
    Step(N_("The loss"),
         N_("`F.cross_entropy` takes the **logits**, not probabilities: it computes log-softmax in one step "
            "(`z - max z - log Σ exp(z - max z)`), which is exact even where softmax rounds a probability to 0 and "
            "`log(0)` would be −∞; the engine's `loss_value` does the same. And softmax + cross-entropy together "
            "have the simple gradient p − y. `F.mse_loss` averages over all 64×10 numbers; the engine sums "
            "½(a − y)² over the 10 outputs, so the same value is `0.5 * F.mse_loss(..., reduction=\"sum\") / n`."),
         """\
# softmax + cross-entropy
loss = net.loss_value(z, acts[-1], y)
# sigmoid + MSE
a = 1 / (1 + np.exp(-z))
mse = (0.5 * (a - y) ** 2).sum() / len(z)""",
         """\
# softmax + cross-entropy, from the logits
loss = F.cross_entropy(z, labels)
# sigmoid + MSE
y = F.one_hot(labels, 10).float()
mse = 0.5 * F.mse_loss(z.sigmoid(), y,
                       reduction="sum") / len(z)"""),
    Step(N_("Backward"),
         N_("`loss.backward()` is our backward, done for us: it runs the recorded operations in reverse (the chain "
            "rule, layer by layer) and leaves each gradient in the parameter's `.grad`, shaped like the parameter."),
         """\
grad_w, grad_b = net.backward(zs, acts, y)
print(grad_w[0].shape)         # (256, 784)""",
         """\
loss.backward()
print(model[0].weight.grad.shape)   # [256, 784]"""),
    Step(N_("The update"),
         N_("`optimizer.step()` is our `update`: every parameter moves against its gradient. "
            "`torch.optim.SGD(momentum=0.9)` keeps b = 0.9·b + g and steps −lr·b; the engine keeps v = 0.9·v − lr·g "
            "and steps +v: the same steps while lr stays put. `torch.optim.Adam` is the engine's Adam."),
         """\
from engine.optim import Momentum

optimizer = Momentum(lr=0.1, momentum=0.9)
grads = [g for pair in zip(grad_w, grad_b)
         for g in pair]
optimizer.step(net.params(), grads)""",
         """\
optimizer = torch.optim.SGD(model.parameters(),
                            lr=0.1, momentum=0.9)
optimizer.step()"""),
    Step(N_("zero_grad"),
         N_("PyTorch **adds** each backward's gradients to `.grad` (handy for summing parts of a big batch), so "
            "every step starts by clearing them. The engine's backward returns fresh arrays: nothing to clear."),
         """\
# nothing to do: backward returns
# new gradient arrays every time""",
         """\
# .grad back to zero (None) before the next backward
optimizer.zero_grad()"""),
    Step(N_("The training loop and mini-batches"),
         N_("A `DataLoader` cuts the data into shuffled mini-batches, as the engine's Trainer does each epoch. "
            "The loop body is the whole of learning: forward, loss, backward, update."),
         """\
from engine.trainer import Settings, Trainer

settings = Settings(batch_size=64, epochs=1)
trainer = Trainer(net, data.x_train, data.y_train,
                  settings)
# shuffle, then for each mini-batch:
# forward, loss, backward, update
trainer.run(batches=20)""",
         """\
from torch.utils.data import DataLoader, TensorDataset

train = TensorDataset(
    torch.from_numpy(to_float(data.x_train)),
    torch.tensor(data.y_train).long())
batches = DataLoader(train, batch_size=64,
                     shuffle=True)
for step, (xb, yb) in enumerate(batches):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
    if step == 19:
        break"""),
    Step(N_("Saving"),
         N_("Both save the numbers, not the code: the engine writes its arrays with `np.savez`; PyTorch writes the "
            "`state_dict`, a dictionary of every parameter by name. To load, build the same model, then put the "
            "numbers back."),
         """\
from engine.modelfile import load_model, save_model

# np.savez of weights, biases and settings
save_model("model.npz", net)
net, settings = load_model("model.npz")""",
         """\
torch.save(model.state_dict(), "model.pt")
model.load_state_dict(torch.load("model.pt"))"""),
]
