#!/usr/bin/env bash
# Install the desktop entry, AppStream metadata and icons for the current user (XDG).
#   packaging/linux/install.sh            then: Architecture Explorer in the app menu
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
id=io.github.architecture_explorer.ArchitectureExplorer
install -Dm644 "$here/$id.desktop" "$data/applications/$id.desktop"
install -Dm644 "$here/$id.metainfo.xml" "$data/metainfo/$id.metainfo.xml"
install -Dm644 "$root/resources/icons/architecture-explorer.svg" \
  "$data/icons/hicolor/scalable/apps/architecture-explorer.svg"
for size in 16 24 32 48 64 128 256 512; do
  install -Dm644 "$root/resources/icons/architecture-explorer-$size.png" \
    "$data/icons/hicolor/${size}x${size}/apps/architecture-explorer.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$data/icons/hicolor" || true
echo "installed $id for $USER (needs 'explorer' on PATH: pip install the wheel, or the bundle)"
