"""A Hypothesis stateful model of a small federation (see test_federation_model.py)."""
