"""Inspection records and credit grades."""
