"""The log as static C2SP tlog-tiles resources under ``/tlog/``, served or exported."""
