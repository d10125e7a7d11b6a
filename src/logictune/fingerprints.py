"""Content fingerprints of files, folders and models: how the recipe and the demo tell a stale result.

Hashes are cached by (path, size, mtime, inode) in a JSON file beside the caller's markers, so a rerun does
not read checkpoint folders or model weights again. What this misses, as make does: a file rewritten in
place to the same size within one mtime tick.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class HashCache:
    """sha256 of files, remembered by their stat; ``path`` None keeps them in memory only."""

    def __init__(self, path: Path | None = None):
        self.path, self.dirty = path, False
        self.entries: dict[str, list] = {}  # absolute path -> [size, mtime_ns, inode, sha256]
        try:
            self.entries = json.loads(path.read_text(encoding="utf-8")) if path else {}
        except (OSError, ValueError):
            pass  # no cache yet, or a damaged one: hash again

    def sha256(self, file: Path) -> str:
        st = file.stat()
        stamp, key = [st.st_size, st.st_mtime_ns, st.st_ino], str(file.resolve())
        hit = self.entries.get(key)
        if hit and hit[:3] == stamp:
            return hit[3]
        digest = sha256_file(file)
        self.entries[key], self.dirty = [*stamp, digest], True
        return digest

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        from .data import atomic_write_text

        atomic_write_text(self.path, json.dumps(self.entries) + "\n")
        self.dirty = False


def fingerprint(path: str | os.PathLike, cache: HashCache | None = None) -> str | None:
    """sha256 of a file, or of every file under a folder (relative names included); None if missing."""
    cache = cache or HashCache()
    p = Path(path)
    if p.is_file():
        return cache.sha256(p)
    if not p.is_dir():
        return None
    digest = hashlib.sha256()
    for f in sorted(x for x in p.rglob("*") if x.is_file()):
        digest.update(f"{f.relative_to(p).as_posix()}\0{cache.sha256(f)}\n".encode())
    return digest.hexdigest()


def registry_identity(spec: str) -> str | None:
    """A registry model by its name and the pinned sha256 of its weights (the converted files are made
    from exactly those); None for a spec that is not a registry name."""
    from .models import REGISTRY  # imports torch: only where a model may be named

    entry = REGISTRY.get(spec)
    return f"{spec} sha256:{entry.sha256}" if entry else None


def model_identity(spec: str, cache: HashCache | None = None) -> str | None:
    """What a model spec names, as content: a registry model by its pinned weights, a local folder or
    .gguf by its files; None for a hub id, whose text is all there is to go on."""
    return registry_identity(spec) or fingerprint(spec, cache)
