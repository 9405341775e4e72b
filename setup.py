"""ssr-keras: explicit sparsity (SSR) for recommendation models in TensorFlow/Keras, with TFX and TF Serving."""

import pathlib

import setuptools

HERE = pathlib.Path(__file__).parent

# Versions are ranges here (what the code supports); requirements/lock.txt pins the exact, tested set.
CORE = ["tensorflow>=2.16,<2.17", "tf-keras>=2.16,<2.17", "numpy>=1.23,<2", "pyyaml>=5.4"]
MODELS = ["tensorflow-recommenders==0.7.7", "matplotlib>=3.5", "scipy>=1.10", "scikit-learn>=1.3",
          "networkx>=3.0", "numba>=0.59", "pandas>=1.5"]
PIPELINE = MODELS + [
    "tfx==1.16.0",
    "tensorflow-transform==1.16.0",
    "tensorflow-model-analysis==0.47.1",
    "apache-beam[gcp]==2.60.0",
]
SERVING = ["tensorflow-serving-api>=2.16,<2.17", "grpcio>=1.60", "tornado>=6.1", "prometheus-client>=0.17"]
# A multi-process Beam engine on one machine or a cluster (Beam's Dask runner)
DISTRIBUTED = PIPELINE + ["dask>=2024.4,<2024.9", "distributed>=2024.4,<2024.9"]
TEST = ["pytest", "pytest-timeout", "hypothesis", "ruff", "import-linter>=2.0"]

setuptools.setup(
    name="ssr-keras",
    version="0.1.0",
    description=__doc__,
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9,<3.12",
    packages=setuptools.find_packages(include=["ssr_keras", "ssr_keras.*", "pipeline", "pipeline.*",
                                               "serving", "serving.*"]),
    # The built-in layout files (`ssr_keras.data.layouts.get_layout("frappe")` reads them).
    package_data={"ssr_keras.data": ["builtin_layouts/*.yaml"]},
    install_requires=CORE,
    extras_require={
        "models": MODELS,
        "pipeline": PIPELINE,
        "serving": SERVING,
        "distributed": DISTRIBUTED,
        "all": DISTRIBUTED + SERVING,
        "test": TEST,
    },
    entry_points={
        "console_scripts": [
            "ssr-train=ssr_keras.cli.train:main",
            "ssr-analyze=ssr_keras.cli.analyze:main",
            "ssr-segments=ssr_keras.cli.segments:main",
            "ssr-pipeline=pipeline.cli:main",
            "ssr-serve=serving.server_cli:main",
            "ssr-client=serving.client_cli:main",
            "ssr-layout=ssr_keras.cli.layout:main",
        ]
    },
    classifiers=[
        "Programming Language :: Python :: 3.10",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "License :: OSI Approved :: Apache Software License",
    ],
)
