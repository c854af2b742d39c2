"""The projector: resolves reports into firms and builds the read models."""
