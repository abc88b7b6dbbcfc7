"""Scan counting per code (no personal data) and clone detection for serial codes."""
