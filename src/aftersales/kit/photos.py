"""Uploaded photos (case evidence, proof of a delivery attempt): checked by their first bytes (never
the client's word), stored under upload_dir/<folder>/<random hex>.<ext>, and found again only by that
generated name. The folder is the owner's key (a case number, `shipment-<id>`); callers check who may
see the owner before serving a file."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import UploadFile

from aftersales.kit.errors import Invalid

MAX_PHOTOS = 6
MAX_BYTES = 5 * 1024 * 1024
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|webp)")
CASE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,23}")


@dataclass(frozen=True)
class CheckedPhoto:
    """An upload that passed the checks, with the name it will be stored under."""

    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class StoredPhoto:
    name: str
    content_type: str
    size: int


def _extension(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def chosen(files: Sequence[object]) -> list[UploadFile]:
    """The files a form really carries: a file input left empty still sends a nameless, empty part."""
    return [f for f in files if isinstance(f, UploadFile) and (f.filename or f.size)]


def check_photos(files: Sequence[UploadFile]) -> list[CheckedPhoto]:
    """Read and check every upload; nothing is written. Raises Invalid with the first problem."""
    if len(files) > MAX_PHOTOS:
        raise Invalid(f"You can upload at most {MAX_PHOTOS} photos at a time; you chose {len(files)}.")
    checked = []
    for index, upload in enumerate(files, start=1):
        upload.file.seek(0)
        data = upload.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise Invalid(f"Photo {index} is larger than 5 MB; please choose a smaller photo.")
        ext = _extension(data[:16])
        if ext is None:
            raise Invalid(f"Photo {index} is not a JPEG, PNG or WebP image; please choose a photo in one of these.")
        checked.append(CheckedPhoto(f"{secrets.token_hex(16)}.{ext}", CONTENT_TYPES[ext], data))
    return checked


def _case_dir(upload_dir: str | Path, case_number: str) -> Path:
    if not CASE_NUMBER.fullmatch(case_number):
        raise ValueError(f"not a case number: {case_number!r}")
    return Path(upload_dir) / case_number


def store_photos(upload_dir: str | Path, case_number: str, photos: Sequence[CheckedPhoto]) -> list[StoredPhoto]:
    folder = _case_dir(upload_dir, case_number)
    folder.mkdir(parents=True, exist_ok=True)
    stored = []
    for photo in photos:
        with (folder / photo.name).open("xb") as fh:
            fh.write(photo.data)
        stored.append(StoredPhoto(photo.name, photo.content_type, photo.size))
    return stored


def save_photos(upload_dir: str | Path, case_number: str, files: Sequence[UploadFile]) -> list[StoredPhoto]:
    """Check all the uploads, then store them; at most 6, each at most 5 MB, JPEG/PNG/WebP only."""
    return store_photos(upload_dir, case_number, check_photos(files))


def remove_photos(upload_dir: str | Path, case_number: str, stored: Sequence[StoredPhoto]) -> None:
    """Undo store_photos when what they belong to was not saved."""
    for photo in stored:
        if (path := photo_path(upload_dir, case_number, photo.name)) is not None:
            path.unlink(missing_ok=True)


def photo_path(upload_dir: str | Path, case_number: str, name: str) -> Path | None:
    """The stored file for a generated name, or None for any other name or a missing file."""
    if not NAME.fullmatch(name) or not CASE_NUMBER.fullmatch(case_number):
        return None
    base = Path(upload_dir).resolve()
    path = (base / case_number / name).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream")


def stored_names(upload_dir: str | Path, folder: str) -> list[str]:
    """The generated names stored in a folder, oldest first (nothing else in it is listed)."""
    if not CASE_NUMBER.fullmatch(folder):
        return []
    base = Path(upload_dir) / folder
    if not base.is_dir():
        return []
    files = [p for p in base.iterdir() if NAME.fullmatch(p.name) and p.is_file()]
    return [p.name for p in sorted(files, key=lambda p: (p.stat().st_mtime, p.name))]
