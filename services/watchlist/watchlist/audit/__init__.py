"""The audit trail: the event log's hash chain, signed checkpoints, export and verification."""
