"""The bare FastAPI baselines of the intake benchmarks (``bench/ingest.py``, ``bench/upload.py``).

Served by uvicorn in its own process with the settings ``intake server run`` uses (one
worker, uvicorn's default loop and HTTP parser, no access log, no server header, no proxy
headers)::

    .venv/bin/python -m uvicorn bench.baseline_app:app --host 127.0.0.1 --port 8001 \\
        --no-access-log --no-server-header --no-proxy-headers --log-level warning

Two endpoints, each doing only what its benchmark's baseline needs:

* ``POST /api/v1/cases/{case_id}/items?epoch=N`` — the same route shape as the real one,
  so the load generator sends byte-for-byte the same requests to both servers: reads the
  body through ``request.stream()`` and answers 201 with a small JSON. No database, no
  disk, no checks (the "bare endpoint taking the same body" of the ingest bar).
* ``POST /upload`` — streams the body to a new file under ``BENCH_UPLOAD_DIR``
  unencrypted, then fsyncs the file and its directory and answers 201 (the "same
  streaming endpoint writing the body to disk unencrypted" of the 1 GiB upload bar). The
  writes are plain blocking ``os.write`` calls on the event loop: the simplest and, for a
  single upload, the fastest way; the benchmark deletes the file afterwards.

Not part of the application: nothing here is imported by ``app``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

app = FastAPI(title="intake benchmark baseline")


@app.post("/api/v1/cases/{case_id}/items", status_code=201)
async def take_item(
    case_id: uuid.UUID, request: Request, epoch: Annotated[int, Query(ge=0)]
) -> JSONResponse:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return JSONResponse({"case_id": str(case_id), "epoch": epoch, "size": size}, status_code=201)


def _upload_dir() -> Path:
    return Path(os.environ.get("BENCH_UPLOAD_DIR", "bench-uploads"))


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@app.post("/upload", status_code=201)
async def upload(request: Request) -> JSONResponse:
    directory = _upload_dir()
    path = directory / f"upload-{uuid.uuid4().hex}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = 0
    try:
        async for chunk in request.stream():
            view = memoryview(chunk)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            size += len(chunk)
        await asyncio.to_thread(os.fsync, fd)
    finally:
        os.close(fd)
    await asyncio.to_thread(_fsync, directory, os.O_RDONLY | os.O_DIRECTORY)
    return JSONResponse({"file": path.name, "size": size}, status_code=201)
