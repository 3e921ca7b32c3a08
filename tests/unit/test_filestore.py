"""The local file store: each file once under its SHA-256, written whole or not at all."""

from __future__ import annotations

import hashlib
import stat

import pytest

from app.filestore import LocalStore


def test_the_local_store_keeps_each_file_once_under_its_digest(tmp_path) -> None:
    store = LocalStore(tmp_path / "materials")
    data = b"%PDF-1.7 a certificate"
    sha = hashlib.sha256(data).hexdigest()
    assert not store.exists(sha)
    for read in (store.get, store.open):
        with pytest.raises(FileNotFoundError):
            read(sha)
    store.put(sha, data)
    source = tmp_path / "upload"
    source.write_bytes(data)
    store.put(sha, source)  # the same bytes again, from a file: taken, nothing new
    assert not source.exists()
    assert store.exists(sha) and store.get(sha) == data
    with store.open(sha) as file:
        assert file.read() == data
    kept = [p for p in (tmp_path / "materials").rglob("*") if p.is_file()]
    assert kept == [store.path(sha)] and stat.S_IMODE(kept[0].stat().st_mode) == 0o640
