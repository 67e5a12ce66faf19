"""gunicorn's configuration file for HopLuc's web processes:
`gunicorn --config config/gunicorn.py config.wsgi:application`.

The Procfile (so docker-compose.yml), the Dockerfile's default command and benchmarks/scale_mixed.py pass it; the
command line still gives the address, the worker count and the access log. A file path rather than
`python:config.gunicorn`, so that gunicorn's master does not import the `config` package (and Celery with it).

What it adds: Python's cyclic garbage collector tuned once per worker (README, "The web workers' garbage collector").
- `gc.freeze()` once the worker has loaded the application: what it loaded (modules, classes, functions, settings,
  URL patterns, models: some 150,000 objects the collector tracks) goes to the permanent generation, which no
  collection walks; a full collection (70–90 ms in a worker before) then walks only what was made since. A
  `gc.collect()` first, so that cyclic garbage of the start-up is freed rather than frozen for the worker's life.
- a young-generation threshold of 10,000 instead of 700: a request leaves a few hundred objects in reference
  cycles (the request's lazy user and messages, django-csp's nonce, gunicorn's early-hints callback, and what
  hangs from them), so with 700 a young collection ran every other request, and a middle-generation one every
  twenty, each walking what the request in progress still held. Cyclic garbage is still collected, in batches
  of at most some 10,000 objects (a megabyte or two per worker).
`post_worker_init` runs in each worker after it loaded the application, with or without `--preload`; with
`--preload` the master also freezes what it loaded before it forks (`when_ready`), so that the workers'
collections leave the pages they share with it alone (copy-on-write).

Also: each worker's heartbeat file (touched by the worker at every pass of its loop, read by the master to find
hung workers) lives in /dev/shm, a memory filesystem, where there is one (Linux, containers): in a container's
/tmp, an overlay over disk, that touch can block the worker (gunicorn's documentation, "Blocking OS calls").
"""

import gc
import os

# Young generation: net new tracked objects between two collections (Python's default 700); the middle and old
# generations keep Python's defaults (10 collections of the one below).
GC_THRESHOLDS = (10_000, 10, 10)

# gunicorn makes its files there with tempfile.mkstemp (private, unlinked at once): not a guessable path.
SHARED_MEMORY = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None


def freeze_loaded_objects() -> None:
    """Free the start-up's cyclic garbage, move every object the collector tracks to the permanent generation,
    and raise the young generation's threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def when_ready(server) -> None:
    """In the master, once it listens: with --preload it holds the application, which its workers inherit."""
    if server.cfg.preload_app:
        freeze_loaded_objects()


def post_worker_init(worker) -> None:
    """In each worker, after it loaded the application (or inherited it with --preload)."""
    freeze_loaded_objects()
