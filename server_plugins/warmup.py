"""Make each Rasa worker ready before its first visitor, and keep its pauses short.

Registered by our REST channel (always configured) as an ``after_server_start``
listener, so it runs in every Sanic worker once Rasa has loaded the model:

1. One NLU parse of a fixed text: the first parse of a worker loads what the pipeline
   loads lazily (the spaCy pipeline's lookups, the classifiers' first call); without
   this, the first visitor of each worker waited for it.
2. ``gc.collect()`` then ``gc.freeze()``. A loaded model is about 680,000 Python
   objects that live as long as the process. Every full garbage collection walks
   all of them: measured with a ``gc.callbacks`` probe, each took 250-440 ms while
   the model loaded, a pause of the worker's whole event loop. Under a 20-second
   load no full collection happened (they are rare once the process is steady),
   but a long-running worker meets them now and then, and each would stall every
   conversation on that worker. Frozen objects are never scanned again; objects
   created by conversations are collected as before.

``FAQBOT_SPEEDUPS=0`` turns both off (to measure them).

:func:`close_worker_connections` (``before_server_stop``) closes what a worker keeps
open between turns: the lock store's asyncio Redis client and the action-server
sessions of ``speedups``.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from server_plugins import speedups

logger = logging.getLogger(__name__)

WARMUP_TEXT = "hello"


async def prepare_worker(app: Any, _loop: Any = None) -> None:
    """Warm the model up and freeze what it allocated (never raises)."""
    if not speedups.enabled():
        return
    started = time.monotonic()
    agent = getattr(app.ctx, "agent", None)
    try:
        if agent is not None and agent.is_ready():
            await agent.parse_message(WARMUP_TEXT)
    except Exception as error:  # a failed warm-up only costs the first visitor time
        logger.warning("model warm-up failed: %s", type(error).__name__)
    gc.collect()
    gc.freeze()
    logger.info(
        "worker ready in %.1f s (model warmed up, %d objects frozen)",
        time.monotonic() - started,
        gc.get_freeze_count(),
    )


async def close_worker_connections(app: Any, _loop: Any = None) -> None:
    """Close the worker's open Redis and HTTP connections (never raises)."""
    agent = getattr(app.ctx, "agent", None)
    close_lock_store = getattr(getattr(agent, "lock_store", None), "aclose", None)
    for what, close in (("lock store", close_lock_store), ("action server", speedups.close_pooled_sessions)):
        if close is None:
            continue
        try:
            await close()
        except Exception as error:  # the worker is stopping anyway
            logger.warning("closing the %s connections failed: %s", what, type(error).__name__)
