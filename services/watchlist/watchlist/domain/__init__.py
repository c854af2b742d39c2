"""The domain: aggregates, events and the report contract. No I/O here."""
