"""Step 1: generate 10k host entries and 2k applications and embed them with the real model (cached).

    uv run --no-sync python bench/prepare_embeddings.py

Writes bench/cache/hosts-10k.jsonl, host-vectors-10k.npy, visitors-2k.jsonl, visitor-vectors-2k.npy and
embedded-with.txt (the model's name: the other scripts refuse vectors of another model). The texts
embedded are exactly what the service embeds (cx_matcher.domain.profiles.host_text / visitor_text).
"""

from __future__ import annotations

import json
import time

import common
import numpy as np
import profiles

from cx_matcher.bootstrap import load_embedder
from cx_matcher.domain.profiles import host_text, visitor_text
from cx_matcher.entrypoints.command_line import ApplicationLine, HostLine
from cx_matcher.settings import Settings


def main() -> None:
    common.CACHE.mkdir(exist_ok=True)
    hosts = [profiles.host(common.SEED, i) for i in range(common.HOSTS)]
    visitors = [profiles.visitor(common.SEED, i) for i in range(common.VISITORS)]
    host_lines = [HostLine.model_validate(h) for h in hosts]  # the questionnaire's own validation
    visitor_lines = [ApplicationLine.model_validate(v) for v in visitors]
    settings = Settings(environment="test")
    embedder = load_embedder(settings)
    started = time.perf_counter()
    host_vectors = embedder.encode([host_text(line.answers) for line in host_lines])
    visitor_vectors = embedder.encode([visitor_text(line.answers) for line in visitor_lines])
    seconds = time.perf_counter() - started
    common.HOSTS_FILE.write_text("".join(json.dumps(h) + "\n" for h in hosts), encoding="utf-8")
    common.VISITORS_FILE.write_text("".join(json.dumps(v) + "\n" for v in visitors), encoding="utf-8")
    np.save(common.HOST_VECTORS, host_vectors)
    np.save(common.VISITOR_VECTORS, visitor_vectors)
    common.EMBEDDED_WITH.write_text(settings.model_name + "\n", encoding="utf-8")
    texts = len(hosts) + len(visitors)
    print(f"embedded {texts} texts in {seconds:.1f} s ({texts / seconds:.1f} texts/s) -> {common.CACHE}")


if __name__ == "__main__":
    main()
