"""The house stays layered: import contracts (`lint-imports`, pyproject.toml) and no hidden imports.

An import written inside a function hides a dependency (and often an import loop) from every tool
that reads the imports of a module; the only ones allowed are listed here with their reason.
"""

import ast
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("ssr_keras", "pipeline", "serving", "examples")
# file -> modules it may import inside a function, and why.
ALLOWED_FUNCTION_IMPORTS = {
    # Optional dependencies, documented where they are imported.
    "ssr_keras/analysis/plotting.py": {"matplotlib", "matplotlib.pyplot"},  # the `models` extra
    "ssr_keras/export/warmup.py": {"tensorflow_serving.apis"},  # the `serving` extra
}


def test_import_contracts_are_kept():
    lint_imports = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    result = subprocess.run([lint_imports, "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _function_imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    yield from (alias.name for alias in inner.names)
                elif isinstance(inner, ast.ImportFrom):
                    yield inner.module or "."


def test_no_imports_inside_functions_but_the_documented_ones():
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            hidden = set(_function_imports(path)) - ALLOWED_FUNCTION_IMPORTS.get(relative, set())
            if hidden:
                found[relative] = sorted(hidden)
    assert not found, f"imports inside functions: {found}"
