"""Consumer complaints (12315-style): received from the public, logged without personal data,
answered by regulators within the 30-minute response and 24-hour feedback deadlines."""
