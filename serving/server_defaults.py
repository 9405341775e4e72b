"""The server's defaults, shared by `server_cli` (flags, parsed before TensorFlow loads) and `server`.

A module of its own so that `server` needs nothing from `server_cli` (the entry module imports the server
only once the flags are valid, never the other way round).
"""

from __future__ import annotations

import os

DEFAULT_THREADS = min(32, 4 * (os.cpu_count() or 1))
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_BATCH_SIZE = 0  # no cap: the message size limit is the guard (large requests are chunked)
DEFAULT_CONFIG_POLL_SECONDS = 0.0  # TF Serving's default: the model config file is read once (and on SIGHUP)
