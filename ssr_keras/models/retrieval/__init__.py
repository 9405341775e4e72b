"""Retrieval models: user (or user history) -> top-k items, scored and evaluated the same way.

Every model here is evaluated with `ssr_keras.analysis.retrieval_metrics` and exported with
`ssr_keras.export` as a top-k retriever.
"""
