"""Provenance: custody of lots, items and logistic units, the lineage graph, and traces."""
