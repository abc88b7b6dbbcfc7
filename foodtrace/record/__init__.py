"""The one write path: every write is a signed entry, checked, appended to the log as one
atomic group, and projected into the domain tables in the same transaction."""
