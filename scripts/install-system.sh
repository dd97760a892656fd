#!/usr/bin/env bash
# Installs the system packages moneytrail needs, only where they are missing.
#   Java 17 (Spark engine), Chromium + CJK fonts (browser tests, PDF), PostgreSQL (team database tests).
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }

have java || need+=(openjdk-17-jre-headless)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi

if ! have apt-get; then
  echo "Missing system packages: ${need[*]}. Install them with your package manager and run make again." >&2
  exit 2
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO="sudo"; else
    echo "Missing system packages: ${need[*]}; run as root or install them first." >&2; exit 2
  fi
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
