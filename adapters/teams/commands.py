"""`casebook teams-package`: the Teams app package to upload (see the README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings


def add_commands(sub: Any) -> None:
    package = sub.add_parser(
        "teams-package",
        help="build the Teams app package (manifest.json and icons, zipped) to upload to Teams",
    )
    package.add_argument(
        "--app-id", default=None, help="the bot's Microsoft App ID (default: MICROSOFT_APP_ID)"
    )
    package.add_argument(
        "--website-url",
        default=None,
        help="https page about Casebook for your users; /privacy and /terms are linked from it "
        "(default: TEAMS_APP_WEBSITE_URL)",
    )
    package.add_argument(
        "--version", dest="app_version", default="1.0.0", help="app version (bump to update)"
    )
    package.add_argument("--developer-name", default="Casebook", help="who publishes the app in your tenant")
    package.add_argument("-o", "--output", default="casebook-teams.zip", help="where to write the zip")
    package.set_defaults(handler=run_package)


def run_package(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.teams.config import TeamsSettings
    from adapters.teams.package import PackageError, PackageOptions, build

    teams = TeamsSettings.unchecked_from_env()
    app_id = (args.app_id or teams.app_id or "").strip()
    website_url = args.website_url or teams.app_website_url
    if not website_url:
        print(
            "casebook teams-package: pass --website-url https://... (a page about Casebook for your "
            "users; Teams links its /privacy and /terms), or set TEAMS_APP_WEBSITE_URL",
            file=sys.stderr,
        )
        return 2
    options = PackageOptions(
        app_id=app_id,
        website_url=website_url,
        version=args.app_version,
        developer_name=args.developer_name,
    )
    try:
        path = build(options, Path(args.output))
    except (PackageError, OSError) as error:
        print(f"casebook teams-package: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app) or the admin center")
    return 0
