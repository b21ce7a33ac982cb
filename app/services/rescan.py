"""Re-scan stored texts with the current personal-data detector (issue 11): `flask personal-data rescan`.

A database written by an older detector holds what it missed: NIKs in clear inside complaint texts and
answers (and in their kept versions), phone numbers and e-mails in the public renderings, and anonim
complainants' names in public renderings written before names were masked at write time. The rescan
repairs each stored text in place:

- originals (complaint text, answer text): every NIK the detector finds outside an existing seal is sealed;
  existing seals are kept as they are (their tokens are not re-encrypted, so a second run changes nothing);
- titles: a NIK typed in a title is replaced by "[NIK]" (a title has no room for a sealed token);
- public renderings (complaint public title/text, answer public text): masked again by
  `disclosure.public_rendering`, which keeps a validator's edits and adds what the old detector missed.

Core UPDATEs, so neither the optimistic-locking version nor a Continuum version moves (the rescan is not an
edit by anyone); version rows are repaired too. One transaction per batch; safe to stop and run again;
`dry_run` counts without writing. One history row with the counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy_continuum import version_class

from .. import audit, redact
from ..crypto import SEALED_NIK
from ..extensions import db
from ..models import Answer, Complaint
from ..workflow import Visibility
from .common import Actor, unit_of_work
from .disclosure import public_rendering

BATCH = 500


@dataclass
class RescanReport:
    dry_run: bool
    complaints: int = 0  # rows looked at
    answers: int = 0
    changed: dict[str, int] = field(default_factory=dict)  # "table.column" -> rows changed

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())

    def count(self, key: str) -> None:
        self.changed[key] = self.changed.get(key, 0) + 1


def seal_missed(text: str | None, crypt) -> str | None:
    """`text` with every NIK found outside an existing seal sealed; existing seals untouched."""
    if not text:
        return text
    parts = SEALED_NIK.split(text)
    # re.split with one group alternates: plain, token, plain, token, …
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(f"\u27e6NIK:{part}\u27e7")
        elif any(s.kind == "nik" for s in redact.find(part)):
            out.append(crypt.seal_niks(part))
        else:
            out.append(part)
    return "".join(out)


def title_without_nik(title: str | None) -> str | None:
    if not title:
        return title
    for span in reversed([s for s in redact.find(title) if s.kind == "nik"]):
        title = f"{title[:span.start]}[NIK]{title[span.end:]}"
    return title


def _complaint_changes(row, crypt) -> dict:
    name, visibility = row.name, Visibility(row.visibility)
    wanted = {
        "title": title_without_nik(row.title),
        "text": seal_missed(row.text, crypt),
        "public_title": public_rendering(row.public_title, name=name, visibility=visibility),
        "public_text": public_rendering(row.public_text, name=name, visibility=visibility),
    }
    return {k: v for k, v in wanted.items() if v != getattr(row, k)}


def _answer_changes(row, crypt) -> dict:
    wanted = {
        "text": seal_missed(row.text, crypt),
        "public_text": public_rendering(row.public_text, name=row.name, visibility=Visibility(row.visibility)),
    }
    return {k: v for k, v in wanted.items() if v != getattr(row, k)}


def run(*, dry_run: bool = False, batch_size: int = BATCH) -> RescanReport:
    from .complaints import cipher

    crypt = cipher()
    report = RescanReport(dry_run=dry_run)
    cv, av = version_class(Complaint), version_class(Answer)
    c = Complaint.__table__.c
    a = Answer.__table__.c

    def apply(table, key_columns: dict, changes: dict, label: str) -> None:
        for column in changes:
            report.count(f"{label}.{column}")
        if changes and not dry_run:
            where = [table.c[k] == v for k, v in key_columns.items()]
            db.session.execute(sa.update(table).where(*where).values(**changes))

    # Complaints and their versions (a version keeps the name of its complaint's row for anonim masking).
    last = 0
    while True:
        with unit_of_work():
            rows = db.session.execute(
                sa.select(c.id, c.name, c.visibility, c.title, c.text, c.public_title, c.public_text)
                .where(c.id > last).order_by(c.id).limit(batch_size)).all()
            for row in rows:
                apply(Complaint.__table__, {"id": row.id}, _complaint_changes(row, crypt), "complaint")
            if rows:
                ids = [r.id for r in rows]
                names = {r.id: (r.name, r.visibility) for r in rows}
                vt = cv.__table__
                for v in db.session.execute(sa.select(vt.c.id, vt.c.transaction_id, vt.c.title, vt.c.text,
                                                      vt.c.public_title, vt.c.public_text)
                                            .where(vt.c.id.in_(ids))).all():
                    name, visibility = names[v.id]
                    proxy = _Row(name=name, visibility=visibility, title=v.title, text=v.text,
                                 public_title=v.public_title, public_text=v.public_text)
                    apply(vt, {"id": v.id, "transaction_id": v.transaction_id}, _complaint_changes(proxy, crypt),
                          "complaint_version")
            report.complaints += len(rows)
            if len(rows) < batch_size:
                break
            last = rows[-1].id
    # Answers and their versions; the complaint's name and visibility decide the anonim masking.
    last = 0
    while True:
        with unit_of_work():
            rows = db.session.execute(
                sa.select(a.id, a.text, a.public_text, c.name, c.visibility)
                .join(Complaint.__table__, c.id == a.complaint_id)
                .where(a.id > last).order_by(a.id).limit(batch_size)).all()
            for row in rows:
                apply(Answer.__table__, {"id": row.id}, _answer_changes(row, crypt), "answer")
            if rows:
                owners = {r.id: (r.name, r.visibility) for r in rows}
                vt = av.__table__
                for v in db.session.execute(sa.select(vt.c.id, vt.c.transaction_id, vt.c.text, vt.c.public_text)
                                            .where(vt.c.id.in_(list(owners)))).all():
                    name, visibility = owners[v.id]
                    proxy = _Row(name=name, visibility=visibility, text=v.text, public_text=v.public_text)
                    apply(vt, {"id": v.id, "transaction_id": v.transaction_id}, _answer_changes(proxy, crypt),
                          "answer_version")
            report.answers += len(rows)
            if len(rows) < batch_size:
                if not dry_run:
                    audit.record("system", "personal_data.rescan", actor=Actor.system(),
                                 detail={"complaints": report.complaints, "answers": report.answers,
                                         "changed": report.changed})
                break
            last = rows[-1].id
    return report


class _Row:
    def __init__(self, **values):
        self.__dict__.update(values)
