"""双随机一公开: random draws of merchants (weighted by grade) and inspectors whose seed is a
chain block hash committed to in the log before the block existed."""
