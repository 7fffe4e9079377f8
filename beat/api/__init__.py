"""The HTTP API: thin handlers over the domain, one error mapping, the app contract's routes."""
