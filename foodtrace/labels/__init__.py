"""Issuing 食安码: merchant, lot and serial codes as URLs, QR PNG/SVG and A4 label sheets."""
