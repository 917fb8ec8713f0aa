#!/usr/bin/env bash
# Makes a Docker engine and the debian:trixie-slim base image usable on a machine
# that has neither (CI, a fresh Debian box). A user with a normal Docker never needs this.
# Idempotent: does nothing when `docker info` already works and the base image exists.
set -euo pipefail

log() { echo "docker-engine: $*"; }

if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
    log "installing docker.io docker-compose debootstrap from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null
  fi
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /var/log/dockerd.log"; tail -20 /var/log/dockerd.log; exit 1; }
fi

if ! docker image inspect debian:trixie-slim >/dev/null 2>&1; then
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  root=$(mktemp -d /tmp/trixie-root.XXXXXX)
  log "building debian:trixie-slim with debootstrap in $root"
  debootstrap --variant=minbase trixie "$root" http://deb.debian.org/debian >/tmp/debootstrap.log 2>&1 || {
    log "debootstrap failed; see /tmp/debootstrap.log"; tail -20 /tmp/debootstrap.log; exit 1; }
  tar -C "$root" -c . | docker import - debian:trixie-slim >/dev/null
  rm -rf "$root"
fi
log "ready: $(docker version --format '{{.Server.Version}}') with debian:trixie-slim"
