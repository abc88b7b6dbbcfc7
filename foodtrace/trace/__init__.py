"""The verifiable core: entries, canonical hashing, signatures, the Merkle log and checkpoints.

Nothing in this package touches the web or the chain; the verification path here is
shared by the API, the CLI, the scanner and the tests.
"""
