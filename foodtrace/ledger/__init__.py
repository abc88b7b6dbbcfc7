"""Anchoring: the TraceAnchor contract artifact, web3 client, embedded chain and anchorer."""
