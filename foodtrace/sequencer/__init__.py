"""One sequencer, many workers: writes queued by any worker, integrated by the elected one."""
