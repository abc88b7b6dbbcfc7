"""EPCIS 2.0 interface: capture documents as signed log entries, index and query events.

The pure EPCIS core (validation, event facts, CBV hash ids) is :mod:`foodtrace.trace.epcis`;
this package is its shell: tables, the ``epcis.event`` entry type, the REST binding and the
``foodtrace import`` command."""
