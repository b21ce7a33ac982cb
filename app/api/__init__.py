"""REST API (FAB, JWT-authenticated) under /api/v1/: one module per area, registered by `register_apis`."""


def register_apis(appbuilder) -> None:
    from .complaints import register as register_complaints

    register_complaints(appbuilder)
    from .desk import register as register_desk

    register_desk(appbuilder)
