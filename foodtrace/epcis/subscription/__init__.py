"""Named queries and webhook subscriptions (EPCIS 2.0 REST binding ``/queries``)."""
