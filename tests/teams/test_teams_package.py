"""`casebook teams-package`: a zip Teams accepts, advertising only commands the bot knows."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy
import pytest
from PIL import Image

from adapters.cli import main
from bot.commands import parse_command
from tests.teams.activities import APP_ID


def _package(tmp_path: Path, *args: str) -> tuple[int, Path]:
    output = tmp_path / "casebook-teams.zip"
    with pytest.raises(SystemExit) as exit_info:
        main(["teams-package", *args, "-o", str(output)])
    return int(exit_info.value.code or 0), output


def test_the_package_holds_a_filled_in_manifest_and_both_icons(tmp_path: Path) -> None:
    code, output = _package(
        tmp_path,
        "--app-id",
        APP_ID.upper(),
        "--website-url",
        "https://wiki.contoso.example/casebook/",
        "--version",
        "1.2.0",
    )
    assert code == 0
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert manifest["manifestVersion"] == "1.17" and "v1.17" in manifest["$schema"]
    assert manifest["id"] == APP_ID and manifest["version"] == "1.2.0"
    assert manifest["developer"]["privacyUrl"] == "https://wiki.contoso.example/casebook/privacy"
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and set(bot["scopes"]) == {"team", "personal", "groupChat"}
    # Resource-specific consent: answers in a reply chain reach the bot without an @mention.
    assert manifest["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"}
    ]
    assert manifest["webApplicationInfo"]["id"] == APP_ID
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert color.size == (192, 192) and outline.size == (32, 32)
    pixels = numpy.asarray(outline.convert("RGBA")).reshape(-1, 4)
    drawn = pixels[pixels[:, 3] > 0]
    assert len(drawn) and (drawn[:, :3] == 255).all(), "the outline icon must be white only"
    assert (pixels[:, 3] == 0).any(), "the outline icon needs a transparent background"


def test_the_command_menus_only_offer_commands_of_the_grammar(tmp_path: Path) -> None:
    code, output = _package(tmp_path, "--app-id", APP_ID, "--website-url", "https://x.example")
    assert code == 0
    with zipfile.ZipFile(output) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    for command_list in manifest["bots"][0]["commandLists"]:
        assert len(command_list["commands"]) <= 10
        for command in command_list["commands"]:
            assert parse_command(command["title"]).name != "unknown", command["title"]
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--app-id", "my-bot", "--website-url", "https://x.example"], "GUID"),
        (["--app-id", APP_ID, "--website-url", "http://x.example"], "https://"),
        (["--app-id", APP_ID, "--website-url", "https://x.example", "--version", "2"], "1.0.0"),
    ],
)
def test_bad_options_get_a_clear_message_and_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    code, output = _package(tmp_path, *args)
    assert code == 2 and complaint in capsys.readouterr().err
    assert not output.exists()
