"""Witnesses (C2SP tlog-witness): independent parties that cosign the log's checkpoints, and
the log's side that collects their cosignatures and serves them in checkpoint notes."""
