"""REST API (FAB, JWT-authenticated) under /api/v1/: one module per area, registered by `register_apis`."""
