"""End-to-end examples on top of the library, the pipeline and the server (`python -m examples.demo`)."""
