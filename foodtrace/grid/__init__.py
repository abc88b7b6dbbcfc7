"""Grids (网格): a station's area, its market-supervision officer and community grid worker."""
