"""Parties (who writes), their signing keys, and their licences."""
