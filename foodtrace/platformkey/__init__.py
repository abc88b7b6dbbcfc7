"""The platform's own signing key, registered by a logged entry like every author's key.

Records the platform signs (recall notices, code acknowledgements, complaints from the public)
verify like any author's: a ``platform.key.register`` entry, self-signed by the platform key
and countersigned by the log key (a signed note naming the key, see
:mod:`foodtrace.trace.platform_note`), is logged
before the first entry the key signs (:mod:`.writes`). A scanner proves that entry in the
log like any record and checks the countersignature with the log key it pins, so a key put
into our database or key file behind the log's back is not the platform's.
"""
