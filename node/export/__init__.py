"""Offline copies of a collection for participants without the node: a static HTML folder
or one PDF, built only from lessons whose consent is public (:mod:`node.export.rule`)."""
