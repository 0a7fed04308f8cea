"""The bridge from the NumPy engine to PyTorch: the same network as a torch model, proven equal.

Optional: nothing outside bridge/, the PyTorch page and its tests imports it, and torch is
imported only inside the functions that need it, so `import bridge.notebook` works without it.
"""
