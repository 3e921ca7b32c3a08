"""The README's configuration table names every setting the app reads from the environment."""

from __future__ import annotations

import re

from app.settings import ROOT


def test_every_setting_is_in_the_configuration_table() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration"):]
    table = table[:table.index("\n## ")]
    documented = set(re.findall(r"`(YIWANG_[A-Z0-9_]+|DATABASE_URL)`", table))
    read = {name for path in (ROOT / "app").rglob("*.py")
            for name in re.findall(r"\"(YIWANG_[A-Z0-9_]+|DATABASE_URL)\"", path.read_text())}
    assert read and read <= documented, sorted(read - documented)
