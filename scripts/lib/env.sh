# shellcheck shell=bash
# Sourced by every project script: puts the project's Node.js 24 first on PATH.
# Why: the system Node on Debian 12 machines of this kind is 20 (end of life); we never use it.
TF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TF_ROOT
export PATH="$TF_ROOT/.tools/bin:$TF_ROOT/node_modules/.bin:$PATH"
# Keep npm's update, funding and audit notices out of logs.
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
