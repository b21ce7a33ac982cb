"""Staff desks (FAB views), one module per desk: validator, opd (with dispatch), dashboard, records."""
