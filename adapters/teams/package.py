"""The Teams app package: manifest.json with the app id filled in, and the two icons,
zipped flat (what Teams admin center and "Upload a custom app" accept)."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.teams.config import GUID

PACKAGE_DIR = Path(__file__).parent / "appPackage"
ICON_SIZES = {"color.png": 192, "outline.png": 32}
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class PackageError(ValueError):
    """An option the Teams app package cannot be built with; the message says which."""


@dataclass(frozen=True)
class PackageOptions:
    app_id: str
    website_url: str
    version: str = "1.0.0"
    developer_name: str = "Casebook"

    def validate(self) -> PackageOptions:
        if not GUID.match(self.app_id):
            raise PackageError(
                f"the app id must be the bot's Microsoft App ID (a GUID), not {self.app_id!r}; "
                "pass --app-id or set MICROSOFT_APP_ID"
            )
        if not self.website_url.startswith("https://"):
            raise PackageError(
                f"Teams needs an https:// website URL (it links the privacy and terms pages), "
                f"not {self.website_url!r}"
            )
        if not _VERSION.match(self.version):
            raise PackageError(f"the version must look like 1.0.0, not {self.version!r}")
        if not 0 < len(self.developer_name) <= 32:
            raise PackageError("the developer name must be 1 to 32 characters")
        return self


def manifest(options: PackageOptions) -> dict[str, Any]:
    text = (PACKAGE_DIR / "manifest.json").read_text(encoding="utf-8")
    values = {
        "MICROSOFT_APP_ID": options.app_id.lower(),
        "APP_VERSION": options.version,
        "DEVELOPER_NAME": options.developer_name,
        "WEBSITE_URL": options.website_url.rstrip("/"),
    }
    for name, value in values.items():
        text = text.replace("${{" + name + "}}", json.dumps(value)[1:-1])
    if "${{" in text:
        raise PackageError("manifest.json has a placeholder this command does not fill")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("an icon is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def build(options: PackageOptions, output: Path) -> Path:
    options.validate()
    content = json.dumps(manifest(options), indent=2, ensure_ascii=False)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", content)
        for name, side in ICON_SIZES.items():
            data = (PACKAGE_DIR / name).read_bytes()
            if png_size(data) != (side, side):
                raise PackageError(f"{name} must be {side}x{side} pixels")
            archive.writestr(name, data)
    return output
