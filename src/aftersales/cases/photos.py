"""Photos uploaded to a case, stored under upload_dir/<case number>/: the shared upload code in
kit.photos (content sniffing, size limits, generated names), re-exported under the names the case
pages use."""

from __future__ import annotations

from aftersales.kit.photos import (
    CASE_NUMBER,
    CONTENT_TYPES,
    MAX_BYTES,
    MAX_PHOTOS,
    NAME,
    CheckedPhoto,
    StoredPhoto,
    check_photos,
    chosen,
    content_type,
    photo_path,
    remove_photos,
    save_photos,
    store_photos,
)

__all__ = [
    "CASE_NUMBER",
    "CONTENT_TYPES",
    "MAX_BYTES",
    "MAX_PHOTOS",
    "NAME",
    "CheckedPhoto",
    "StoredPhoto",
    "check_photos",
    "chosen",
    "content_type",
    "photo_path",
    "remove_photos",
    "save_photos",
    "store_photos",
]
