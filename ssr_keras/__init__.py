"""ssr-keras: explicit sparsity (SSR, arXiv 2604.08011) for recommendation models in TensorFlow/Keras.

The layers are imported on first use (`ssr_keras.SSRBackbone`, `from ssr_keras import ICSLayer`), so that
importing a submodule that needs no TensorFlow (a CLI's argument parser, `ssr_keras.data.layout_file`)
starts at once. `import ssr_keras.layers` registers the layers with Keras explicitly.
"""

import importlib
import os

# TFRS and TFMA need Keras 2 (tf-keras); the variable must be set before TensorFlow is first imported.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

__version__ = "0.1.0"

__all__ = [
    "ICSLayer",
    "MultiViewFusion",
    "SSRBackbone",
    "SSRDBlock",
    "SSRSBlock",
    "StaticRandomFilter",
    "ViewProjection",
]


def __getattr__(name: str):
    """The public layers, imported from `ssr_keras.layers` when first asked for (PEP 562)."""
    if name in __all__:
        return getattr(importlib.import_module("ssr_keras.layers"), name)
    raise AttributeError(f"module 'ssr_keras' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
