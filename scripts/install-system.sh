#!/usr/bin/env bash
# Installs the system packages moneytrail needs, only where they are missing.
#   Java 17 (Spark engine), Chromium + CJK fonts (browser tests, PDF), PostgreSQL (team database tests).
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }

# Spark 4 needs Java 17 or newer; an older java on the PATH counts as missing.
java_major() { java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'; }
if ! have java || [ "$(java_major)" -lt 17 ] 2>/dev/null; then need+=(openjdk-17-jre-headless); fi
# Workbench: Chromium for the browser tests, CJK fonts so Chinese names render, PostgreSQL for the team database tests.
have chromium || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
have npm || need+=(npm)
# followthemoney's name normaliser needs PyICU, which PyPI ships as source: it compiles against ICU.
dpkg -s libicu-dev >/dev/null 2>&1 || need+=(libicu-dev)
have pkg-config || need+=(pkg-config)
have g++ || need+=(g++)
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
