# shellcheck shell=bash
# Installs what a fresh machine lacks to build and test this project, and puts
# the project-local tools on PATH. Sourced by scripts/run and scripts/test;
# every step is skipped when its tool is already there at the right version.
# Nothing is downloaded from anywhere but the package registries (crates.io,
# npm, Debian): cargo-leptos would fetch wasm-bindgen and wasm-opt from GitHub,
# so both are installed here first, into cargo's bin directory, where any
# shell finds them: `cargo leptos watch` (or build, serve) typed by hand
# works as it does in the scripts.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10" # 0.3.11 needs a newer rustc than this machine's 1.95
GECKODRIVER_VERSION="0.37.1"
MDBOOK_VERSION="0.5.4"
CARGO_GENERATE_VERSION="0.23.7" # 0.24 and later need a newer rustc than 1.95

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

setup_rust() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi

  if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (20-30 minutes on 2 cores, once)"
    # Without LTO and with more codegen units the build is minutes shorter;
    # the tool runs no slower that anyone would notice.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install --locked "cargo-leptos@$CARGO_LEPTOS_VERSION"
  fi

  # The CLI must match the wasm-bindgen crate exactly; Cargo.lock says which.
  local bindgen
  bindgen="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen" ]; then
    say "installing wasm-bindgen-cli $bindgen"
    # Not --locked: its lock file names a crate version the registry no longer has.
    cargo install wasm-bindgen-cli --version "$bindgen"
  fi
}

# npm ci only when the lock file changed since the last install (a copy of
# it is kept in node_modules as the stamp).
npm_ci() {
  local dir="$1"
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"; then
    say "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
    cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
  fi
}

# wasm-opt for release builds: binaryen from npm, at the version tools/
# pins, installed beside cargo's tools (not in this checkout, so the link
# outlives it) and linked into cargo's bin directory.
setup_build_tools() {
  local version home
  version="$(awk -F'"' '/"binaryen":/ { print $4; exit }' "$ROOT/tools/package.json")"
  home="${CARGO_HOME:-$HOME/.cargo}/checkout-tools/binaryen-$version"
  mkdir -p "$home"
  cp "$ROOT/tools/package.json" "$ROOT/tools/package-lock.json" "$home/"
  npm_ci "$home"
  if [ "$(readlink "$CARGO_BIN/wasm-opt" 2>/dev/null)" != "$home/node_modules/.bin/wasm-opt" ]; then
    say "linking wasm-opt (binaryen $version) into $CARGO_BIN"
    ln -sfn "$home/node_modules/.bin/wasm-opt" "$CARGO_BIN/wasm-opt"
  fi
}

# nginx in front of the release build for one Playwright test
# (scripts/behind-nginx, deploy/nginx.conf): Debian's, where it is missing.
setup_proxy() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    say "installing Debian's nginx (the proxy test)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx
  fi
}

setup_browser() {
  npm_ci "$ROOT/end2end"
  local missing=()
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    missing+=(chromium chromium-driver)
  fi
  command -v firefox-esr >/dev/null || missing+=(firefox-esr)
  # WebKitGTK's WebDriver, and a display for its browser.
  command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
  command -v xvfb-run >/dev/null || missing+=(xvfb)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian's ${missing[*]} (Playwright cannot download its own browsers here)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
  fi
  # Firefox's WebDriver (the SDK's in-browser tests run in it too), from
  # crates.io: Debian has no package of it.
  if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
    say "installing geckodriver $GECKODRIVER_VERSION (about 3 minutes, once)"
    cargo install --locked "geckodriver@$GECKODRIVER_VERSION"
  fi
}

# For the book and the template (scripts/test), from crates.io: mdBook with
# only its search feature (no `serve` or `watch` server: fewer crates), and
# cargo-generate without its git support (the template is generated from a
# path).
setup_docs() {
  if [ "$(mdbook --version 2>/dev/null | awk '{print $2}')" != "v$MDBOOK_VERSION" ]; then
    say "installing mdbook $MDBOOK_VERSION (about 2 minutes, once)"
    cargo install --locked --no-default-features --features search "mdbook@$MDBOOK_VERSION"
  fi
  if [ "$(cargo generate --version 2>/dev/null | awk '{print $NF}')" != "$CARGO_GENERATE_VERSION" ]; then
    say "installing cargo-generate $CARGO_GENERATE_VERSION (about 7 minutes, once)"
    cargo install --locked --no-default-features "cargo-generate@$CARGO_GENERATE_VERSION"
  fi
}

# PostgreSQL and Redis on this machine, for the tests that run the merchant
# on them: used where they answer (127.0.0.1:5432, :6379), else Debian's
# packages installed and started. A fresh cluster gets the password
# `postgres` for its `postgres` user (TEST_POSTGRES_URL below works either
# way: a server with trust authentication ignores it).
TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432}"
TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
setup_services() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null; then
      say "installing Debian's PostgreSQL"
      $sudo apt-get update -q
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q postgresql
    fi
    say "starting PostgreSQL"
    local version
    version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
    $sudo pg_ctlcluster "$version" main start || $sudo service postgresql start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    $sudo -u postgres psql -q -c "ALTER USER postgres PASSWORD 'postgres'" 2>/dev/null ||
      $sudo runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD 'postgres'"
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    if ! command -v redis-server >/dev/null; then
      say "installing Debian's Redis"
      $sudo apt-get update -q
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q redis-server
    fi
    say "starting Redis (nothing kept on disk)"
    redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
}

# The release build every stage after it shares: cargo-leptos's server
# build (the wasm, the styles, the server) with the standalone sandbox's
# and the drivers' binaries (chaos, fleet, loadtest, ...) added to the same
# cargo command. One feature resolution: built apart, the sandbox resolves
# its dependencies' features its own way (proc-macro2 without leptos's
# span-locations, and everything above it) and compiles ~120 crates again,
# and a plain `cargo build -p server` misses the LEPTOS_* variables
# cargo-leptos sets and builds leptos again. The server is the same either
# way: cargo-leptos's own `serve` and `build` find it fresh.
release_build() {
  cargo leptos build --release --precompress --cargo-locked \
    --bin-cargo-args=--package=sandbox --bin-cargo-args=--package=drivers --bin-cargo-args=--bins
}
