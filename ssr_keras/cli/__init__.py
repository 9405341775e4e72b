"""Command-line tools: `ssr-train` (train, evaluate, export), `ssr-analyze` (implicit sparsity), `ssr-segments`."""
