#!/usr/bin/env bash
# Print the path of the Linux 6.1 source tree the real-code alarm baseline is kept on, fetching it
# first when needed: Debian's linux-source-6.1 package ships the whole tree as
# /usr/src/linux-source-6.1.tar.xz; it is unpacked ONCE, outside the clone, into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/faultline-linux/<package version>/linux-source-6.1
# Idempotent: on a warm machine this is a dpkg-query and a directory test. The tree is unpacked
# into a temporary directory beside it and renamed into place only when complete, so an
# interrupted run never leaves a half tree behind.
#
#   scripts/ensure-linux-tree.sh           install (apt) and unpack when missing; print the path
#   scripts/ensure-linux-tree.sh --check   never install or unpack: print the path, or exit 1
#
# FAULTLINE_LINUX_TREE=<dir> overrides everything (a tree you unpacked yourself).
# Progress and errors go to stderr; stdout is only the path.
set -euo pipefail

pkg=linux-source-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
# The package version the real-code baseline (test/realcode/linux-6.1/) was triaged on: its alarms
# are exact for this tree only (6.1.176-1, which apt installs from stale package lists, has one
# more fault-under-lock alarm in btrfs extent_fiemap() and two budget notes). Installed when apt
# offers it (Debian's security archive keeps several versions); else the current one, with a
# warning. Change it together with the baseline.
baseline=6.1.192-3
mode=ensure
case "${1:-}" in
  '') ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "ensure-linux-tree: unknown option '$1' (use --check or nothing)" >&2; exit 2 ;;
esac

log() { echo "ensure-linux-tree: $*" >&2; }

if [ -n "${FAULTLINE_LINUX_TREE:-}" ]; then
  if [ -d "$FAULTLINE_LINUX_TREE/mm" ]; then echo "$FAULTLINE_LINUX_TREE"; exit 0; fi
  log "FAULTLINE_LINUX_TREE=$FAULTLINE_LINUX_TREE is not a kernel tree (no mm/ in it)"
  exit 1
fi

cache="${XDG_CACHE_HOME:-$HOME/.cache}/faultline-linux"
installed_version() {
  dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null | sed -n 's/^install ok installed //p'
}

version=$(installed_version || true)
# --check takes the baseline's unpack when there is one, whatever is installed.
if [ "$mode" = check ] && [ -d "$cache/$baseline/linux-source-6.1" ]; then echo "$cache/$baseline/linux-source-6.1"; exit 0; fi
if [ -z "$version" ] || { [ "$mode" = ensure ] && [ "$version" != "$baseline" ] && [ ! -d "$cache/$baseline/linux-source-6.1" ]; }; then
  if [ "$mode" = check ]; then
    # No package: a tree unpacked earlier (one version only) still counts.
    found=$(ls -d "$cache"/*/linux-source-6.1 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$found" ]; then echo "$found"; exit 0; fi
    log "no Linux 6.1 tree: run scripts/ensure-linux-tree.sh (installs Debian's $pkg with apt and unpacks it under $cache)"
    exit 1
  fi
  command -v apt-get >/dev/null 2>&1 || { log "apt-get not found: install $pkg by hand, or set FAULTLINE_LINUX_TREE"; exit 1; }
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
      log "need root (or sudo) to install $pkg"; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when apt does not offer the baseline's version yet (stale
  # lists from the machine's image install an older tree).
  if ! apt-cache show "$pkg=$baseline" >/dev/null 2>&1; then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -q </dev/null >&2 || log "apt-get update failed; trying with the lists apt has"
  fi
  if apt-cache show "$pkg=$baseline" >/dev/null 2>&1; then
    log "apt-get install -y $pkg=$baseline (about 140 MB)"
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends --allow-downgrades "$pkg=$baseline" xz-utils </dev/null >&2
  elif [ -z "$version" ]; then
    log "apt does not offer $pkg $baseline (the version the real-code baseline was triaged on): installing the current one; the baseline test may then report differences"
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "$pkg" xz-utils </dev/null >&2
  else
    log "apt does not offer $pkg $baseline (the version the real-code baseline was triaged on): keeping $version; the baseline test may then report differences"
  fi
  version=$(installed_version)
  [ -n "$version" ] || { log "$pkg did not install"; exit 1; }
fi

dest="$cache/$version/linux-source-6.1"
if [ -d "$dest" ]; then echo "$dest"; exit 0; fi
if [ "$mode" = check ]; then
  log "$pkg $version is installed but not unpacked: run scripts/ensure-linux-tree.sh (unpacks it into $dest)"
  exit 1
fi
[ -f "$tarball" ] || { log "$tarball missing although $pkg $version is installed (reinstall it)"; exit 1; }
command -v xz >/dev/null 2>&1 || { log "xz not found (install xz-utils)"; exit 1; }

mkdir -p "$cache/$version"
tmp=$(mktemp -d "$cache/$version/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "unpacking $tarball into $dest (about 1.3 GB, a minute or two)"
tar -xJf "$tarball" -C "$tmp"
[ -d "$tmp/linux-source-6.1/mm" ] || { log "$tarball has no linux-source-6.1/mm"; exit 1; }
# Another run may have finished first; its tree is as good as ours.
if ! mv -T "$tmp/linux-source-6.1" "$dest" 2>/dev/null; then
  [ -d "$dest" ] || { log "could not move the tree into $dest"; exit 1; }
fi
echo "$dest"
