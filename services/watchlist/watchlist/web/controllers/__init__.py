"""The console's pages, one module per screen family."""
