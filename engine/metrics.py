"""How good is the model? Accuracy, confusion matrix, precision / recall / F1."""
import numpy as np


def accuracy(predicted, labels):
    """Fraction of predictions (n,) equal to the labels (n,)."""
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


def confusion_matrix(labels, predicted, n_classes=10):
    """Counts (n_classes, n_classes): row = true digit, column = predicted digit."""
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    # Each (true, predicted) pair becomes one number true*k + predicted; count them all at once.
    counts = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def per_class_scores(cm):
    """Precision, recall and F1 of every class from a confusion matrix.

    precision[k]: of the images predicted k, the fraction that really are k (column).
    recall[k]:    of the images that are k, the fraction predicted k (row).
    F1: their harmonic mean. A class never predicted (or absent) scores 0.
    Returns a dict of arrays (n_classes,) plus 'support' (images per true class).
    """
    cm = np.asarray(cm, dtype=np.float64)
    hits = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual.astype(np.int64)}


def confident_mistakes(probs, labels, n=20):
    """Indices of the n wrong predictions the model was most sure of.

    probs: (m, k) output activations; labels: (m,). Returns an int array,
    most confident mistake first.
    """
    predicted = probs.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probs[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:n]]


def format_report(cm, digits=4):
    """The per-class table and the confusion matrix as plain text."""
    scores = per_class_scores(cm)
    k = cm.shape[0]
    lines = ["class  precision  recall     f1  support"]
    for c in range(k):
        lines.append(f"{c:>5}  {scores['precision'][c]:9.{digits}f}  {scores['recall'][c]:6.{digits}f}"
                     f"  {scores['f1'][c]:.{digits}f}  {scores['support'][c]:7d}")
    width = max(5, len(str(int(cm.max()))) + 1)
    lines += ["", "confusion matrix (rows: true digit, columns: predicted digit)",
              "true\\pred" + "".join(f"{c:>{width}}" for c in range(k))]
    for c in range(k):
        lines.append(f"{c:>9}" + "".join(f"{v:>{width}}" for v in cm[c]))
    return "\n".join(lines)
