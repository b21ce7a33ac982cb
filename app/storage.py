"""Attachments: checked, cleaned and stored behind one small storage interface.

- `prepare(files)` checks uploads before anything is written: at most UPLOAD_MAX_FILES, each at most
  UPLOAD_MAX_BYTES, type decided from the content (`filetype`), never from the name: JPEG, PNG or PDF.
  Images are decoded and re-encoded with Pillow, which drops EXIF (GPS, camera, owner) and text chunks.
- The returned `Upload` objects are handed to the services (`submit(..., files=…)`,
  `answer(..., files=…)`), which call `save_for(complaint, answer=None)` inside their transaction: the
  bytes go to storage under a random name and an `Attachment` row joins the same transaction. When that
  transaction rolls back, the files written for it are removed again (`UnitOfWork.after_rollback`);
  files are deleted only after a commit (`after_commit`, see services.retention).
- `send_attachment(attachment)` serves one file as a download. It does NOT decide who may see it: the
  caller checks access first (the tracking page checks the ticket + PIN grant; the staff desks use
  their scoped look-up, e.g. `services.desk.attachment_for`).

Storage is a local folder (UPLOAD_DIR) today; an S3-compatible store (MinIO) for several web nodes only
needs another class with the same three methods (DESIGN.md, "From one machine to a province").
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import secrets
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterable, Protocol

import filetype
from flask import Response, current_app
from flask_babel import gettext
from PIL import Image, ImageOps
from werkzeug.utils import secure_filename

from .extensions import db
from .models import Answer, Attachment, Complaint
from .services.common import Invalid, NotFound, Unavailable, current_unit

log = logging.getLogger(__name__)

ALLOWED = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
# Decoding a huge image costs memory; a phone photo is 12-50 megapixels.
MAX_PIXELS = 60_000_000
FIELD = "attachments"


class Storage(Protocol):
    def put(self, name: str, data: bytes) -> None: ...

    def get(self, name: str) -> bytes: ...

    def delete(self, name: str) -> None: ...


class LocalStorage:
    """Files in one folder outside every static folder, under names nobody can guess."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        # Stored names are ours (random hex + extension); refuse anything else defensively.
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError("invalid stored name")
        return self.root / name

    def put(self, name: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        tmp = path.with_suffix(path.suffix + ".part")
        try:
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a reader never sees half a file
        except BaseException:
            # A full disk fails mid-write: half a file must not stay behind.
            try:
                tmp.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("could not remove the partial upload %s: %s", tmp.name, exc)
            raise

    def get(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)


def get_storage() -> Storage:
    return LocalStorage(current_app.config["UPLOAD_DIR"])


@dataclass
class Upload:
    """One checked and cleaned file, not yet stored."""

    original_name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def save_for(self, complaint: Complaint, answer: Answer | None = None) -> Attachment:
        """Write the bytes and add the Attachment row to the caller's (the service's) transaction."""
        unit = current_unit()  # written only inside a service's transaction, and undone with it
        stored_name = secrets.token_hex(16) + ALLOWED[self.content_type]
        storage = get_storage()
        try:
            storage.put(stored_name, self.data)
        except OSError as exc:
            # Disk full, permission denied, folder gone: the whole submission or answer is rolled back
            # (with the files already written for it, below) and the person is told to try again.
            log.error("attachment could not be written: %s (%s)", errno.errorcode.get(exc.errno or 0, "?"),
                      exc.__class__.__name__)
            raise Unavailable(gettext(
                "Lampiran tidak dapat disimpan karena gangguan penyimpanan di server, jadi belum ada yang "
                "tersimpan. Isian Anda tetap ada: pilih ulang lampiran lalu kirim lagi beberapa saat lagi, "
                "atau kirim tanpa lampiran."), code="storage") from exc
        unit.after_rollback(partial(_remove_written, storage, stored_name))
        attachment = Attachment(complaint_id=complaint.id, answer_id=answer.id if answer is not None else None,
                                original_name=self.original_name, stored_name=stored_name,
                                content_type=self.content_type, size=len(self.data), sha256=self.sha256)
        db.session.add(attachment)
        return attachment


# --------------------------------------------------------------------------- checks


def _read_limited(stream, limit: int) -> bytes | None:
    """The whole stream, or None when it is longer than `limit` (read no more than limit + 1 bytes)."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def _clean_image(data: bytes, kind: str) -> bytes:
    """Decode and re-encode: only pixels survive (no EXIF/GPS, no comments, no text chunks)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValueError("too many pixels")
            img.load()
            # Keep photos upright: the orientation lives in EXIF, which is about to be dropped.
            img = ImageOps.exif_transpose(img)
            out = io.BytesIO()
            if kind == "image/jpeg":
                if img.mode not in ("RGB", "L"):
                    img = img.convert("RGB")
                img.save(out, format="JPEG", quality=88, optimize=True)
            else:
                if img.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"):
                    img = img.convert("RGBA")
                img.save(out, format="PNG", optimize=True)
            return out.getvalue()


def _display_name(filename: str | None, kind: str) -> str:
    stem = Path(secure_filename(filename or "")).stem[:120] or "lampiran"
    return stem + ALLOWED[kind]


def prepare(files: Iterable) -> list[Upload]:
    """Check and clean uploaded files (werkzeug FileStorage or anything with .filename and .stream).

    Empty file inputs are ignored. Raises `Invalid` with errors={"attachments": …} and writes nothing
    when any file is refused.
    """
    chosen = [f for f in files if f is not None and (getattr(f, "filename", "") or "").strip()]
    limit_files = int(current_app.config.get("UPLOAD_MAX_FILES", 3))
    limit_bytes = int(current_app.config["UPLOAD_MAX_BYTES"])
    megabytes = limit_bytes / (1024 * 1024)
    if len(chosen) > limit_files:
        raise Invalid("Periksa kembali lampiran.",
                      errors={FIELD: f"Maksimal {limit_files} lampiran (Anda memilih {len(chosen)})."})
    uploads: list[Upload] = []
    for item in chosen:
        name = item.filename.strip()
        data = _read_limited(item.stream, limit_bytes)
        if data is None:
            raise Invalid("Periksa kembali lampiran.",
                          errors={FIELD: f"Berkas {name} lebih dari {megabytes:g} MB."})
        if not data:
            raise Invalid("Periksa kembali lampiran.", errors={FIELD: f"Berkas {name} kosong."})
        guess = filetype.guess(data)
        kind = guess.mime if guess is not None else None
        if kind not in ALLOWED:
            raise Invalid("Periksa kembali lampiran.",
                          errors={FIELD: f"Berkas {name} bukan JPEG, PNG atau PDF."})
        if kind != "application/pdf":
            try:
                data = _clean_image(data, kind)
            except Exception as exc:  # any decoder failure means: not a usable image
                log.info("attachment refused: %s", exc.__class__.__name__)
                raise Invalid("Periksa kembali lampiran.",
                              errors={FIELD: f"Gambar {name} rusak atau terlalu besar untuk diproses."}) from exc
        uploads.append(Upload(original_name=_display_name(name, kind), content_type=kind, data=data))
    return uploads


# --------------------------------------------------------------------------- transaction hygiene


def _remove_written(storage: Storage, name: str) -> None:
    # The rows are gone with the rollback; the files must not outlive them.
    try:
        storage.delete(name)
    except OSError as exc:
        log.warning("could not remove orphaned upload %s: %s", name, exc)


# --------------------------------------------------------------------------- serving


def send_attachment(attachment: Attachment) -> Response:
    """One stored file as a download. Call only after an access check (see module docstring)."""
    try:
        data = get_storage().get(attachment.stored_name)
    except (OSError, ValueError) as exc:
        raise NotFound("Berkas lampiran tidak tersedia.") from exc
    response = Response(data, mimetype=attachment.content_type)
    # Always a download, never rendered in our origin; nosniff stops browsers from guessing a type.
    response.headers.set("Content-Disposition", "attachment", filename=attachment.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
