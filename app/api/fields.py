"""Marshmallow fields and base schema of our REST bodies: every value through the input boundary
(app/inputs.py), with messages in Indonesian (English with /lang/en), so a JSON body is read exactly
like the same field on a form. Limits are documented in the OpenAPI schema (maxLength, minimum …)."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from .. import inputs

MESSAGES = {"required": _l("Wajib diisi."), "null": _l("Tidak boleh null."),
            "validator_failed": _l("Nilai tidak valid.")}


def _problem(problem: inputs.Problem) -> ValidationError:
    return ValidationError(problem.text(gettext))


class Text(fields.String):
    """A text value: NFC, no control characters (LF and tab kept when `multiline`), seal markers
    neutralised, `limit` characters after normalising; blank is missing when the field is required."""

    default_error_messages = {**MESSAGES, "invalid": _l("Harus berupa teks.")}

    def __init__(self, *, limit: int | None = None, multiline: bool = False, **kwargs):
        self.limit, self.multiline = limit, multiline
        metadata = dict(kwargs.pop("metadata", {}) or {})
        if limit is not None:
            metadata.setdefault("maxLength", limit)
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return inputs.clean_text(value, limit=self.limit, multiline=self.multiline, required=self.required)
        except inputs.Problem as problem:
            raise _problem(problem) from None


class Integer(fields.Integer):
    """A whole number within [minimum, maximum] (ids by default): no booleans, no fractions."""

    default_error_messages = {**MESSAGES, "invalid": _l("Harus berupa bilangan bulat.")}

    def __init__(self, *, minimum: int = 0, maximum: int = inputs.ID_MAX, **kwargs):
        self.minimum, self.maximum = minimum, maximum
        metadata = {"minimum": minimum, "maximum": maximum, **(kwargs.pop("metadata", {}) or {})}
        super().__init__(strict=True, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        try:
            return inputs.parse_int(value, minimum=self.minimum, maximum=self.maximum)
        except inputs.Problem as problem:
            raise _problem(problem) from None


class Boolean(fields.Boolean):
    """JSON true or false only (not "ya", not 1)."""

    default_error_messages = {**MESSAGES, "invalid": _l("Harus true atau false.")}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class BodySchema(Schema):
    """Base of our request bodies: an object; keys it does not document are ignored (a client may send
    more than one operation needs), never stored."""

    error_messages = {"type": _l("Kirim objek JSON."), "unknown": _l("Kolom tidak dikenal.")}

    class Meta:
        unknown = EXCLUDE


def load(schema: Schema, payload) -> tuple[dict | None, dict[str, str]]:
    """(data, {}) or (None, {field: message}) for a request body; a body that is not an object is one
    message under "_schema"."""
    try:
        return schema.load(payload), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return None, {key: " ".join(map(str, value)) if isinstance(value, list) else str(value)
                      for key, value in messages.items()}
