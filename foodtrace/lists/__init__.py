"""Red and black lists (红黑名单): derived from current grades and serious penalties, never
stored, so a list cannot drift from the records behind it."""
