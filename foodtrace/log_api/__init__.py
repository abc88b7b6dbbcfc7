"""Read-only routes over the log itself: its latest checkpoint and consistency proofs."""
