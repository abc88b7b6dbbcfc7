"""Staff health certificates; the holder's personal data stays out of the log."""
