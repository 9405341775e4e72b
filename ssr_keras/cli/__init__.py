"""Command-line tools: `ssr-train` (train, evaluate, export), `ssr-analyze` (implicit sparsity), `ssr-segments`,
`ssr-layout` (infer and check layout files).

Each command is an entry module holding only its flags (`train.py`, ...) and a command module doing the work
(`train_command.py`, ...), imported by name once the flags are parsed (`launch.run_command`), so `--help` and
flag errors answer before TensorFlow loads. `ssr-pipeline` (`pipeline/cli.py`) and `ssr-client`
(`serving/client_cli.py`) follow the same pattern.
"""
