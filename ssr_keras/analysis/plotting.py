"""Plots of implicit sparsity: weight-magnitude histograms and cumulative input-mass curves."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ssr_keras.analysis.implicit_sparsity import SparsityReport, split_views


def plot_implicit_sparsity(kernels: Mapping[str, np.ndarray], report: SparsityReport, path: str) -> str:
    """Writes a two-panel PNG: |w| / max|w| histograms, and the cumulative squared-weight share of
    input dimensions sorted by mass, per kernel.

    Args:
        kernels: the kernels `report` was computed on.
        report: their `SparsityReport` (threshold and top fraction are drawn as guides).
        path: output PNG path.

    Returns:
        `path`.

    Example:

    >>> plot_implicit_sparsity(kernels, analyze_kernels(kernels), "sparsity.png")  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on servers
    import matplotlib.pyplot as plt

    matrices = {}
    for name, kernel in kernels.items():
        matrices.update(split_views(name, np.asarray(kernel)))
    fig, (hist_ax, mass_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    bins = np.linspace(0.0, 1.0, 101)
    for name, kernel in matrices.items():
        magnitude = np.abs(kernel).ravel()
        hist_ax.hist(magnitude / max(magnitude.max(), 1e-30), bins=bins, histtype="step",
                     label=_short(name), density=True)
        mass = np.sort(np.sum(np.asarray(kernel, np.float64) ** 2, axis=1))[::-1]
        cumulative = np.cumsum(mass) / max(mass.sum(), 1e-30)
        mass_ax.plot(np.arange(1, len(mass) + 1) / len(mass), cumulative, label=_short(name))
    hist_ax.axvline(report.threshold, color="k", linestyle="--", linewidth=1)
    hist_ax.set_yscale("log")
    hist_ax.set_xlabel("|w| / max |w| of the layer")
    hist_ax.set_ylabel("density (log)")
    hist_ax.set_title(f"{report.near_zero_fraction:.1%} of weights below {report.threshold:g} x max")
    mass_ax.axvline(report.top_fraction, color="k", linestyle="--", linewidth=1)
    mass_ax.set_xlabel("fraction of input dimensions (sorted by squared-weight mass)")
    mass_ax.set_ylabel("cumulative share of squared-weight mass")
    mass_ax.set_title(f"top {report.top_fraction:.0%} of inputs hold "
                      f"{report.top_input_mass_share:.1%} of the mass (mean)")
    for ax in (hist_ax, mass_ax):
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _short(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("kernel", ".ATTRIBUTES", "VARIABLE_VALUE")]
    return "/".join(parts[-2:]) or name
