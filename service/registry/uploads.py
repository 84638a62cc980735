"""Import files kept between the dry run and the import, so staff do not choose the file twice.

A checked file is stored under DATA_DIR/imports as `<token>.upload` (its name beside it in
`<token>.name`); the page sends the token back with the import. Tokens are random (so one staff
member cannot guess another's), files expire after KEEP_FOR and are swept whenever one is stored
or read, and a stored file is deleted once it has been imported.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

KEEP_FOR_SECONDS = 2 * 60 * 60
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


class UploadStore:
    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "imports"

    def keep(self, content: bytes, filename: str) -> str:
        """Store a checked file; returns its token."""
        self.sweep()
        self.folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        (self.folder / f"{token}.upload").write_bytes(content)
        (self.folder / f"{token}.name").write_text(filename[:200], encoding="utf-8")
        return token

    def load(self, token: str) -> tuple[bytes, str] | None:
        """The kept file and its name, or None when the token is malformed, unknown or expired."""
        self.sweep()
        if not TOKEN.match(token):
            return None
        content, name = self.folder / f"{token}.upload", self.folder / f"{token}.name"
        if not content.is_file() or not name.is_file():
            return None
        return content.read_bytes(), name.read_text(encoding="utf-8")

    def forget(self, token: str) -> None:
        if TOKEN.match(token):
            for suffix in (".upload", ".name"):
                (self.folder / f"{token}{suffix}").unlink(missing_ok=True)

    def sweep(self, now: float | None = None) -> None:
        """Delete kept files older than KEEP_FOR_SECONDS."""
        if not self.folder.is_dir():
            return
        cutoff = (now or time.time()) - KEEP_FOR_SECONDS
        for path in self.folder.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue
