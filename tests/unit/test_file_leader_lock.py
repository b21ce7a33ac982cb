"""The SQLite scheduler lock must look held from the scheduler's worker threads (its heartbeat runs there);
a thread-local lock made the running scheduler think it had lost the lock every 30 seconds."""

import threading

from app.jobs import FileLeaderLock


def test_file_lock_is_seen_as_held_from_another_thread(tmp_path):
    lock = FileLeaderLock(str(tmp_path / "scheduler.lock"))
    assert lock.try_acquire()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(lock.alive()))
    worker.start()
    worker.join()
    assert seen == [True]
    second = FileLeaderLock(str(tmp_path / "scheduler.lock"))
    assert not second.try_acquire()  # a second scheduler stays idle
    lock.release()
    assert second.try_acquire()
    second.release()
