"""Analysis off the message loop: each document version is analyzed on a worker thread, stale versions dropped.

The message loop only reads messages, answers from finished analyses and hands new work out, so a file
that takes long to analyze (huge, or hostile) delays only its own answers, never another file's hover
or hints. One analysis runs per document at a time (the next re-parses from it); documents are
analyzed side by side. A version the editor replaced before its analysis started is never analyzed;
one already running cannot be stopped (Python threads cannot be), so its result is kept to re-parse
from and its thread is a daemon: a stuck analysis never keeps the server alive after the client left.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from .documents import OpenDocument, Pending, Snapshot, is_config_file

if TYPE_CHECKING:
    from .documents import Workspace

log = logging.getLogger(__name__)

T = TypeVar("T")
MOST_WORKERS = 16  # threads at most; one is added whenever every other one is busy (stuck ones included)


class Workers:
    """Daemon threads taking jobs from one queue, started on demand and then kept."""

    def __init__(self, most: int = MOST_WORKERS) -> None:
        self._queue: queue.SimpleQueue[tuple[concurrent.futures.Future, Callable[[], Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._threads = 0
        self._most = most

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((future, fn))
        with self._lock:
            start = self._idle < self._queue.qsize() and self._threads < self._most
            if start:
                self._threads += 1
        if start:
            threading.Thread(target=self._work, name=f"promptwise-analysis-{self._threads}", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            future, fn = self._queue.get()
            with self._lock:
                self._idle -= 1
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to whoever waits for it
                    future.set_exception(exc)
            del future, fn  # a finished job's result must not live on in an idle thread


@dataclass
class Job:
    doc: OpenDocument
    pending: Pending
    future: asyncio.Future = field(repr=False)  # the snapshot, on the message loop
    queued: concurrent.futures.Future | None = field(default=None, repr=False)  # on a worker, once handed out
    waiters: int = 0  # requests waiting for this version: it is not dropped while any waits

    @property
    def version(self) -> int:
        return self.pending.version


class Analyzer:
    """Who analyzes what: one job at a time per document (the next starts when it ends), its
    waiters sharing it; a version nobody waits for any more is dropped before it starts."""

    def __init__(self, state: Workspace, workers: Workers | None = None) -> None:
        self.state = state
        self.workers = workers or Workers()
        self.jobs: dict[str, Job] = {}  # the latest job of each document

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Any other slow engine call (duplicate scan, fixes, suggestions), on a worker."""
        return await asyncio.wrap_future(self.workers.submit(lambda: fn(*args)))

    async def snapshot(self, uri: str) -> Snapshot | None:
        """The analysis of the version of the document open now: the one a request was sent for,
        even when the editor sends newer versions while it is made.

        Raises CancelledError when the document was closed, or when that version's text is gone
        before any analysis of it was asked for: the request is answered as cancelled.
        """
        doc = self.state.get(uri)
        if doc is None or is_config_file(doc.path):
            return None
        want = doc.version
        while True:
            if self.state.get(uri) is not doc:
                raise asyncio.CancelledError
            snap = doc.snapshot
            if snap is not None and snap.version == want:
                return snap
            job = self.jobs.get(uri)
            if job is None or job.doc is not doc or job.version != want or job.pending.generation != self.state.generation:
                if doc.version != want:
                    raise asyncio.CancelledError
                job = self._start(doc)
            job.waiters += 1
            try:
                # Shielded: a request that is cancelled leaves the job to the others.
                result = await asyncio.shield(job.future)
            except asyncio.CancelledError:
                if not job.future.cancelled():
                    raise  # this request itself was cancelled
                continue  # the job was dropped; look again
            finally:
                job.waiters -= 1
            if job.pending.generation == self.state.generation:
                return result
            # Made with settings that changed meanwhile: again, with the new ones.

    def _start(self, doc: OpenDocument) -> Job:
        job = Job(doc, self.state.prepare(doc), asyncio.get_running_loop().create_future())
        before = self.jobs.get(doc.uri)
        self.jobs[doc.uri] = job
        if before is not None and before.doc is doc and not before.future.done():
            before.future.add_done_callback(lambda _: self._submit(job))  # one at a time per document
        else:
            self._submit(job)
        return job

    def _submit(self, job: Job) -> None:
        if job.future.done():
            return  # dropped while it waited for the one before
        loop = job.future.get_loop()
        pending = job.pending
        job.queued = self.workers.submit(lambda: self.state.analyze(pending))
        job.queued.add_done_callback(lambda queued: loop.call_soon_threadsafe(self._finished, job, queued))

    def _finished(self, job: Job, queued: concurrent.futures.Future) -> None:
        # The worker's future and the job refer to each other: let go now, not at the next garbage
        # collection, or the versions they hold (a big document's text and analysis each) pile up.
        job.queued = None
        if self.jobs.get(job.doc.uri) is job:
            del self.jobs[job.doc.uri]
        if job.future.done():
            return
        if queued.cancelled():
            job.future.cancel()
            return
        error = queued.exception()
        if error is not None:  # analyze() turns failures into findings; this is a last resort
            log.error("analysis of %s failed: %r", job.doc.uri, error)
            job.future.set_exception(error)
            return
        snap = queued.result()
        job.future.set_result(snap)
        doc = job.doc
        if self.state.get(doc.uri) is not doc or job.pending.generation != self.state.generation:
            return
        if doc.version == job.version:
            doc.analyzed(snap)
        else:
            doc.outdated(snap)

    def changed(self, uri: str) -> None:
        """The document has a new version: an older one nobody waits for is dropped if not started."""
        job = self.jobs.get(uri)
        if job is not None and job.doc.version != job.version and job.waiters == 0:
            self._drop(job)

    def closed(self, uri: str) -> None:
        job = self.jobs.pop(uri, None)
        if job is not None:
            self._drop(job)

    def _drop(self, job: Job) -> None:
        # A running analysis cannot be stopped; one waiting for a thread or for its turn can.
        if job.queued is None or job.queued.cancel():
            if self.jobs.get(job.doc.uri) is job:
                del self.jobs[job.doc.uri]
            job.future.cancel()
