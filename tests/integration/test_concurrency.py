"""Concurrent submissions never share a ticket code (row-locked counter; most meaningful on PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app import services
from app.extensions import db
from app.models import Complaint


def test_50_concurrent_submissions_get_50_distinct_tickets(app, submission):
    inputs = [submission(text=f"Pengaduan serentak nomor {i}.") for i in range(50)]
    barrier = threading.Barrier(10)

    def submit(data):
        with app.app_context():
            try:
                barrier.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass
            try:
                return services.submit(data).complaint.ticket
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=10) as pool:
        tickets = list(pool.map(submit, inputs))
    assert len(tickets) == 50
    assert len(set(tickets)) == 50
    numbers = sorted(int(t.rsplit("-", 1)[1]) for t in tickets)
    assert numbers == list(range(1, 51))  # no gaps, no repeats
    assert db.session.scalar(sa.select(sa.func.count(Complaint.id))) == 50
