"""Every limit a class server puts on its users, in one place.

Whoever runs the server may change them with environment variables, for example
`DIGITS_MAX_TRAINING_RUNS=4 streamlit run dashboard.py`. A value that is not a
positive number is ignored (the default is used, and the log says so).

    DIGITS_MAX_TRAINING_RUNS  runs that train (or check or test their model) at the same
                              time on the server; the others wait in line (default: the
                              number of CPU cores)
    DIGITS_TURN_SECONDS       while others wait, a run gives its place to the next
                              after training this long, and lines up again (10)
    DIGITS_RUN_MEMORY_MB      memory one run may need, estimated before Start (1500)
    DIGITS_BATCH_SECONDS      time one mini-batch may take, estimated before Start (20)
    DIGITS_KEEP_HOURS         how long a browser's runs and model are kept on the
                              server after it leaves, to be offered back on its return (4)
    DIGITS_KEEP_MB            memory for all that is kept that way, oldest dropped first (1000)
    DIGITS_CORE_GFLOPS        training speed of one core, in billions of operations
                              a second, for the time estimate (30)
    DIGITS_GONE_SECONDS       a run whose browser tab has been closed this long stops (60)

How big a model may be (weights, arithmetic and memory for one image) is not a server setting:
it is engine/budget.py's, the same for the Train page, the lesson links and the model loader, so
that what one server saves every other loads. docs/budget.md lists all of it.
"""
import math
import os

from classroom.limits import positive_env as _env    # (one reading of DIGITS_* numbers for the whole app)
from engine.budget import (MAX_CONV_LAYERS, MAX_EPOCHS, MAX_FILTERS, MAX_HIDDEN_LAYERS,  # noqa: F401
                           MAX_KERNEL, MAX_PADDING, MAX_PARAMS, MAX_POOL, MAX_UNITS)


MAX_TRAINING_RUNS = _env("DIGITS_MAX_TRAINING_RUNS", os.cpu_count() or 2, int)
TURN_SECONDS = _env("DIGITS_TURN_SECONDS", 10.0)
RUN_MEMORY_MB = _env("DIGITS_RUN_MEMORY_MB", 1500.0)
BATCH_SECONDS = _env("DIGITS_BATCH_SECONDS", 20.0)
KEEP_HOURS = _env("DIGITS_KEEP_HOURS", 4.0)
KEEP_MB = _env("DIGITS_KEEP_MB", 1000.0)
CORE_GFLOPS = _env("DIGITS_CORE_GFLOPS", 30.0)
GONE_SECONDS = _env("DIGITS_GONE_SECONDS", 60.0)

# The network's shape (MAX_HIDDEN_LAYERS, MAX_UNITS, MAX_CONV_LAYERS, MAX_FILTERS...): engine/budget.py.

# Whatever the app lets you train and save, it lets you load back: the upload
# limit fits a model file of MAX_PARAMS float32 numbers, plus the archive's headers.
# (.streamlit/config.toml's server.maxUploadSize must be at least this; a test checks.)
UPLOAD_MB = math.ceil((4 * MAX_PARAMS + 2**20) / 2**20)

# Training speed of one core, to turn a run's arithmetic into seconds before it
# starts (a fixed figure, so the same settings are always judged the same way).
# This project's 2-core machine trains at 40-45 GFLOP/s on one core
# (bench/bench_engine.py); 30 leaves room for a busier or slower server.
