#!/usr/bin/env bash
# base-image.sh - a debian:bookworm-slim-like base image made here, without an image registry:
# debootstrap (variant minbase) from the Debian mirror apt uses, then `docker import`.
#
#   base-image.sh [TAG]          (default netscope/bookworm-base:local)
#
# Idempotent: nothing is done when TAG exists. NS_BASE_CACHE=DIR keeps the root file system as
# DIR/bookworm-minbase.tar.gz, so a new Docker data root imports it again in seconds instead of
# running debootstrap (a few minutes). NS_DEBIAN_MIRROR overrides the mirror. Needs root,
# debootstrap and a running dockerd (DOCKER_HOST is honoured).
set -euo pipefail

tag=${1:-netscope/bookworm-base:local}
suite=bookworm
docker=${DOCKER:-docker}

note() { echo "base-image: $*" >&2; }
die() {
  note "$*"
  exit 1
}

if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  note "$tag exists"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap)"

# The first deb.debian.org-style URI of apt's own sources (deb822 or one-line format).
apt_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk '
      /^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
      /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
    ' "$f"
  done | head -n 1
}
mirror=${NS_DEBIAN_MIRROR:-$(apt_mirror)}
mirror=${mirror:-http://deb.debian.org/debian}

cache=${NS_BASE_CACHE:-}
tarball=
[[ -z $cache ]] || tarball=$cache/$suite-minbase.tar.gz

if [[ -z $tarball || ! -s $tarball ]]; then
  command -v debootstrap >/dev/null || die "needs debootstrap (apt-get install debootstrap)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  root=$work/root
  note "debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  }
  # The image's apt reads the same mirror; security updates come from its -security twin.
  cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian*}/debian-security $suite-security main
SOURCES
  # Like the slim images: no package lists, no downloaded .debs, no documentation installed.
  cat >"$root/etc/dpkg/dpkg.cfg.d/excludes" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
DPKG
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/usr/share/doc/*/changelog* \
    "$root"/usr/share/man/* "$root"/usr/share/info/*
  out=${tarball:-$work/root.tar.gz}
  mkdir -p "$(dirname "$out")"
  tar -C "$root" --numeric-owner --xattrs -czf "$out.tmp" .
  mv "$out.tmp" "$out"
  tarball=$out
fi
note "importing $tarball as $tag"
"$docker" import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$tarball" "$tag" >/dev/null
echo "$tag"
