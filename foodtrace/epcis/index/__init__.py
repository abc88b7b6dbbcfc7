"""What the EPCIS 2.0 query language filters on, beyond the core event index."""
