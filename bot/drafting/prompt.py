"""Prompt files (package `prompts`, loaded with importlib.resources) and the messages built from them.

A prompt file is named `<name>.v<version>.md` and has three sections,
`=== system ===`, `=== user ===` and `=== json mode ===` (appended to the system
message for servers without json_schema support). Placeholders are `{{name}}`.
The newest version is used unless CASEBOOK_PROMPT_VERSION pins one.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from bot.config import ConfigError
from bot.drafting.material import Material

PROMPT_NAME = "case-draft"
DATA_BEGIN = "BEGIN CASE DATA"
DATA_END = "END CASE DATA"
_SECTION = re.compile(r"^=== (system|user|json mode) ===\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    digest: str  # sha256 of the file, first 12 hex digits: an edit without a new version shows
    system: str
    user: str
    json_mode: str

    @property
    def label(self) -> str:
        return f"{self.name}.v{self.version}"


def _parse(name: str, version: int, text: str) -> Prompt:
    parts = _SECTION.split(text)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    missing = {"system", "user", "json mode"} - sections.keys()
    if missing:
        raise ConfigError(f"prompt {name}.v{version} lacks the section(s) {', '.join(sorted(missing))}")
    return Prompt(
        name=name,
        version=version,
        digest=hashlib.sha256(text.encode()).hexdigest()[:12],
        system=sections["system"],
        user=sections["user"],
        json_mode=sections["json mode"],
    )


def available_versions(name: str = PROMPT_NAME) -> list[int]:
    pattern = re.compile(rf"^{re.escape(name)}\.v(\d+)\.md$")
    found = (pattern.match(entry.name) for entry in resources.files("prompts").iterdir())
    return sorted(int(m.group(1)) for m in found if m)


@lru_cache(maxsize=8)
def load_prompt(name: str = PROMPT_NAME, version: int | None = None) -> Prompt:
    versions = available_versions(name)
    if not versions:
        raise ConfigError(f"no prompt file {name}.v<N>.md in the prompts package")
    chosen = version if version is not None else versions[-1]
    if chosen not in versions:
        raise ConfigError(f"prompt {name}.v{chosen} does not exist (have: {versions})")
    text = resources.files("prompts").joinpath(f"{name}.v{chosen}.md").read_text(encoding="utf-8")
    return _parse(name, chosen, text)


def configured_prompt(version: int | None = None) -> Prompt:
    """The prompt CASEBOOK_PROMPT_VERSION pins (DraftingConfig.prompt_version), or the newest."""
    return load_prompt(PROMPT_NAME, version)


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values.get(m.group(1), m.group(0)), template)


def build_messages(
    prompt: Prompt,
    material: Material,
    *,
    json_schema: dict[str, Any] | None = None,
    boundary: str | None = None,
) -> list[dict[str, str]]:
    """System instructions, then the case as data between boundary lines no answer can forge.

    The data is JSON, so an answer cannot end the block early; the boundary is random,
    so an answer cannot imitate the closing line either.
    """
    values = {
        "boundary": boundary or secrets.token_hex(8),
        "case_number": str(material.case_number),
        "case_data": material.data_text(),
        "json_schema": json.dumps(json_schema, ensure_ascii=False) if json_schema else "",
    }
    system = _fill(prompt.system, values)
    if json_schema is not None:
        system += "\n\n" + _fill(prompt.json_mode, values)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": _fill(prompt.user, values)},
    ]


def extract_case_data(user_message: str) -> dict[str, Any] | None:
    """The data block of a user message (for stand-in servers and tests)."""
    m = re.search(rf"^{DATA_BEGIN} (\w+)\n(.*)\n{DATA_END} \1$", user_message, re.DOTALL | re.MULTILINE)
    if m is None:
        return None
    data: dict[str, Any] = json.loads(m.group(2))
    return data
