"""Test reports signed by labs, with their PDFs stored content-addressed."""
