"""QR rendering for 食安码: PNG and SVG images, and printable A4 label sheets (PDF)."""
