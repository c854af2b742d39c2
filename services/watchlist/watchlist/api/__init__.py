"""The HTTP API (Litestar). Thin: parse, authorise, call the application, shape the answer."""
