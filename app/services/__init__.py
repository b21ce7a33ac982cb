"""Use cases. The only layer that commits; views, APIs and jobs call these."""

from . import summary  # noqa: F401  (keeps the supervisors' summaries in every transaction)
from .common import Actor, Conflict, Forbidden, Invalid, NotFound, ServiceError, Unavailable, unit_of_work  # noqa: F401
from .scope import get_visible, scope_filter, visible  # noqa: F401
from .complaints import (  # noqa: F401
    SubmitInput, Submitted, answer, claim, close_answered, decide_nik, edit_answer, reroute,
    return_to_dispatch, submit, track,
)
