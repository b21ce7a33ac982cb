"""Static files for nginx: `flask --app run static collect DEST` copies the app's static files and
Flask-AppBuilder's into DEST, laid out as their URLs (/static/… → DEST/…), each under its own name and
under a fingerprinted one (`portal.css` → `portal.3f9c0a1b2d4e.css`, twelve hex digits of its SHA-256),
and writes DEST/manifest.json.

With STATIC_MANIFEST set to that file, every `url_for('static', …)` and `url_for('appbuilder.static', …)`
gives the fingerprinted name, so nginx may cache those for a year (`immutable`): a changed file gets a new
name at the next release. The plain names stay for what stylesheets reference relatively (FAB's fonts);
nginx gives them a short lifetime. Without STATIC_MANIFEST (`make run`, tests) URLs are the plain ones and
Flask serves them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from flask import Flask

FINGERPRINT_HEX = 12
# url_for endpoint → the URL folder under /static/ its files live in.
ENDPOINTS = {"static": "", "appbuilder.static": "appbuilder/"}


def _sources(app: Flask) -> dict[str, Path]:
    return {"static": Path(app.static_folder), "appbuilder.static": Path(app.blueprints["appbuilder"].static_folder)}


def fingerprinted(name: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:FINGERPRINT_HEX]
    path = Path(name)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}")) if path.suffix else f"{name}.{digest}"


def collect(app: Flask, dest: Path) -> dict[str, dict[str, str]]:
    """Copy and fingerprint; returns the manifest (endpoint → filename → fingerprinted filename). Files
    already there with the same content are left alone, so running it twice changes nothing."""
    manifest: dict[str, dict[str, str]] = {}
    for endpoint, source in _sources(app).items():
        prefix = ENDPOINTS[endpoint]
        names: dict[str, str] = {}
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            name = path.relative_to(source).as_posix()
            data = path.read_bytes()
            fp = fingerprinted(name, data)
            for target in (dest / (prefix + name), dest / (prefix + fp)):
                if not target.exists() or target.read_bytes() != data:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
            names[name] = fp
        manifest[endpoint] = names
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    target = dest / "manifest.json"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return manifest


def init_app(app: Flask) -> None:
    path = app.config.get("STATIC_MANIFEST")
    if not path:
        return
    manifest = json.loads(Path(path).read_text())

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        names = manifest.get(endpoint)
        if names is not None and "filename" in values:
            values["filename"] = names.get(values["filename"], values["filename"])
