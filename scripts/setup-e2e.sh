#!/usr/bin/env bash
# Installs what the code-server test suites need: Debian's chromium, ripgrep and the
# headers kerberos compiles against, then code-server and playwright-core in
# .cache/e2e-tools (outside git).
#
# Usage: scripts/setup-e2e.sh          (as root on Debian; the first run took 2.6 minutes on 2 cores, apt not counted)
#        E2E_TOOLS=/some/dir scripts/setup-e2e.sh
# Afterwards: .cache/e2e-tools/node_modules/.bin/code-server is a real VS Code 1.100.3
# whose extension host runs on the system Node (20). A stamp file makes later runs
# return at once; delete .cache/e2e-tools to reinstall.
#
# Why the install is unusual: code-server's postinstall refuses to run as root and then
# downloads ripgrep, which an offline network cannot do. So every install skips scripts,
# ripgrep is copied from Debian, and the native modules are rebuilt explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_CORE_VERSION=1.65.2
TOOLS=${E2E_TOOLS:-$PWD/.cache/e2e-tools}
STAMP="$TOOLS/.installed-code-server-$CODE_SERVER_VERSION-playwright-$PLAYWRIGHT_CORE_VERSION"
APT_PACKAGES=(chromium libkrb5-dev pkg-config ripgrep)

if [ -f "$STAMP" ] && [ -x /usr/bin/chromium ] && [ -x "$TOOLS/node_modules/.bin/code-server" ]; then
  exit 0
fi

log() { echo "setup-e2e: $*" >&2; }

# Debian packages, installed only when one is missing, because apt-get holds a global lock.
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]}. Run this script as root, or install them with apt-get."
    exit 1
  fi
  log "installing ${missing[*]} with apt-get"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

log "installing code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_CORE_VERSION into $TOOLS"
mkdir -p "$TOOLS"
cd "$TOOLS"
[ -f package.json ] || npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error --ignore-scripts \
  "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_CORE_VERSION" >&2

VSCODE="$TOOLS/node_modules/code-server/lib/vscode"
cd "$VSCODE"
log "installing the VS Code server's own dependencies"
npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts >&2

mkdir -p node_modules/@vscode/ripgrep/bin
cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg

# Native modules (node-pty, spdlog, kerberos, ...) ship sources only when scripts are
# skipped, so each package with a binding.gyp is compiled for this Node.
scoped=()
for gyp in node_modules/@*/*/binding.gyp; do
  [ -f "$gyp" ] && scoped+=("$(dirname "${gyp#node_modules/}")")
done
packages=()
for gyp in node_modules/*/binding.gyp; do
  [ -f "$gyp" ] && packages+=("$(dirname "${gyp#node_modules/}")")
done
packages+=("${scoped[@]}")
log "rebuilding native modules: ${packages[*]}"
npm_config_yes=true npm rebuild --loglevel=error "${packages[@]}" >&2

# The server loads node_modules through the asar path of a packaged build.
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)

log "installing the built-in extensions' dependencies"
(cd extensions && npm install --no-audit --no-fund --loglevel=error --omit=dev --ignore-scripts >&2)

cd "$TOOLS"
log "rebuilding argon2"
npm_config_yes=true npm rebuild --loglevel=error argon2 >&2

# XDG_CONFIG_HOME and XDG_DATA_HOME keep the config.yaml and logs that code-server writes
# on every start out of $HOME.
XDG_CONFIG_HOME="$TOOLS/.config" XDG_DATA_HOME="$TOOLS/.local" "$TOOLS/node_modules/.bin/code-server" --version >&2
touch "$STAMP"
log "done"
