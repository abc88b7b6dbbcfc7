"""The scanner: QR decoding and an independent verification client that trusts no server."""
