#!/bin/bash
# Toolforge CNB launcher. Installed as /cnb/lifecycle/launcher; /cnb/process/<type> are symlinks to it.
# The lifecycle's compiled launcher cannot be fetched on our machines, so this is our own, in bash (the run
# image has bash). It reads the exporter's NUL-separated rendering of <layers>/config/metadata.toml in
# <layers>/config/launcher/ and implements the platform spec's launch steps:
#   /cnb/process/<type> [args…]  run that process; user args replace its default args
#   launcher <type> [args…]      the same (so Procfile names work as commands: Toolforge jobs run
#                                `launcher <command>`)
#   launcher -- <cmd> [args…]    run cmd directly with the launch environment
#   launcher <cmd> [args…]       run cmd through bash after sourcing profile.d scripts and <app>/.profile
#                                (a single argument is a shell command line, e.g. `launcher "a && b"`)
#   launcher                     run the default process
# Environment: buildpack launch layers in order (bin/ → PATH, lib/ → LD_LIBRARY_PATH, env/, env.launch/,
# env.launch/<type>/ with override/default/append/prepend/delim), then exec.d programs (TOML on fd 3).
set -o pipefail

layers="${CNB_LAYERS_DIR:-/layers}"
app="${CNB_APP_DIR:-/workspace}"
conf="$layers/config/launcher"

die() {
  printf 'launcher: %s\n' "$*" >&2
  exit 82
}

# Read a file's exact contents (newlines kept) into the variable named $2.
read_exact() {
  IFS= read -r -d '' "$2" <"$1" || true
}

# NUL-separated file → array named $2.
read_list() {
  local -n _out=$2
  _out=()
  [ -s "$1" ] || return 0
  mapfile -d '' -t _out <"$1"
}

# Entries of a directory in byte order (the spec's order), NUL-separated on stdout. Pure bash: the run
# image has no find or sed.
sorted_entries() (
  [ -d "$1" ] || exit 0
  LC_ALL=C
  shopt -s nullglob dotglob
  for f in "$1"/*; do printf '%s\0' "${f##*/}"; done
)

apply_env_dir() {
  local dir=$1 base name op val delim cur
  [ -d "$dir" ] || return 0
  while IFS= read -r -d '' base; do
    [ -f "$dir/$base" ] || continue
    name=${base%%.*}
    if [ "$name" = "$base" ]; then op=override; else op=${base#*.}; fi
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    case $op in override | default | append | prepend) ;; *) continue ;; esac
    read_exact "$dir/$base" val
    delim=""
    [ -f "$dir/$name.delim" ] && read_exact "$dir/$name.delim" delim
    cur=${!name-}
    case $op in
      override) export "$name=$val" ;;
      default) [ -n "$cur" ] || export "$name=$val" ;;
      append) if [ -n "$cur" ]; then export "$name=$cur$delim$val"; else export "$name=$val"; fi ;;
      prepend) if [ -n "$cur" ]; then export "$name=$val$delim$cur"; else export "$name=$val"; fi ;;
    esac
  done < <(sorted_entries "$dir")
}

prepend_path() {
  local cur=${!1-}
  if [ -n "$cur" ]; then export "$1=$2:$cur"; else export "$1=$2"; fi
}

# TOML basic or literal string body → value.
toml_string() {
  local raw=$1 quote=$2
  if [ "$quote" = "'" ]; then
    printf '%s' "$raw"
    return
  fi
  raw=${raw//\\\"/$'\x01'}
  raw=$(printf '%b' "$raw")
  printf '%s' "${raw//$'\x01'/\"}"
}

run_exec_d() {
  local dir=$1 exe out line name
  [ -d "$dir" ] || return 0
  while IFS= read -r -d '' exe; do
    if [ ! -f "$dir/$exe" ] || [ ! -x "$dir/$exe" ]; then continue; fi
    out=$(cd "$app" && "$dir/$exe" 3>&1 1>&2) || die "exec.d program $dir/$exe failed"
    while IFS= read -r line; do
      if [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*([\"\'])(.*)[\"\'][[:space:]]*$ ]]; then
        name=${BASH_REMATCH[1]}
        export "$name=$(toml_string "${BASH_REMATCH[3]}" "${BASH_REMATCH[2]}")"
      elif [[ ! $line =~ ^[[:space:]]*(#.*)?$ ]]; then
        die "exec.d program $dir/$exe wrote a line that is not NAME = \"value\": $line"
      fi
    done <<<"$out"
  done < <(sorted_entries "$dir")
}

# 1. Which process.
self=${0##*/}
type=""
mode=process
user_args=()
if [ "$self" != launcher ]; then
  type=$self
  user_args=("$@")
elif [ "${1-}" = -- ]; then
  shift
  mode=direct
  [ $# -gt 0 ] || die "nothing to run after --"
elif [ $# -eq 0 ]; then
  type=${CNB_PROCESS_TYPE:-}
  [ -n "$type" ] || { [ -f "$conf/default" ] && read_exact "$conf/default" type; }
  [ -n "$type" ] || die "this image has no default process; give a command or a process type"
elif [ -d "$conf/processes/$1" ] && [[ $1 != . && $1 != .. && $1 != */* ]]; then
  type=$1
  shift
  user_args=("$@")
else
  mode=shell
fi
if [ "$mode" = process ] && [ ! -d "$conf/processes/$type" ]; then
  die "no process type '$type' in this image (known: $(sorted_entries "$conf/processes" | tr '\0' ' '))"
fi

# 2. The launch environment: the image's, without the platform's own variables and directories.
unset CNB_LAYERS_DIR CNB_APP_DIR CNB_PROCESS_TYPE CNB_PLATFORM_API CNB_DEPRECATION_MODE
path_out=""
IFS=: read -r -a path_parts <<<"${PATH-}"
for p in "${path_parts[@]}"; do
  case $p in /cnb/process | /cnb/lifecycle | "") ;; *) path_out=${path_out:+$path_out:}$p ;; esac
done
export PATH=$path_out

launch_layers=() # "<escaped buildpack id>/<layer>", buildpacks in group order
read_list "$conf/layers" launch_layers
bp_prev=""
for i in "${!launch_layers[@]}"; do
  entry=${launch_layers[$i]}
  bp=${entry%%/*}
  if [ "$bp" != "$bp_prev" ]; then
    bp_prev=$bp
    # All of this buildpack's layers put their bin/ and lib/ on the paths first…
    for other in "${launch_layers[@]:$i}"; do
      [ "${other%%/*}" = "$bp" ] || break
      [ -d "$layers/$other/bin" ] && prepend_path PATH "$layers/$other/bin"
      [ -d "$layers/$other/lib" ] && prepend_path LD_LIBRARY_PATH "$layers/$other/lib"
    done
  fi
  # …then each layer's env directories apply in order.
  apply_env_dir "$layers/$entry/env"
  apply_env_dir "$layers/$entry/env.launch"
  [ -n "$type" ] && apply_env_dir "$layers/$entry/env.launch/$type"
done

# 3. exec.d programs may add variables computed at launch.
for entry in "${launch_layers[@]}"; do
  run_exec_d "$layers/$entry/exec.d"
  [ -n "$type" ] && run_exec_d "$layers/$entry/exec.d/$type"
done

cd "$app" || die "cannot enter $app"

# 4. Run.
if [ "$mode" = direct ]; then
  exec "$@"
elif [ "$mode" = shell ]; then
  for entry in "${launch_layers[@]}"; do
    while IFS= read -r -d '' f; do
      # shellcheck disable=SC1090
      [ -f "$layers/$entry/profile.d/$f" ] && . "$layers/$entry/profile.d/$f"
    done < <(sorted_entries "$layers/$entry/profile.d")
  done
  # shellcheck disable=SC1091
  [ -f "$app/.profile" ] && . "$app/.profile"
  if [ $# -eq 1 ]; then exec bash -c "$1"; else exec "$@"; fi
fi
command=()
args=()
read_list "$conf/processes/$type/command" command
read_list "$conf/processes/$type/args" args
((${#user_args[@]})) && args=("${user_args[@]}")
wd="$app"
[ -f "$conf/processes/$type/working-dir" ] && read_exact "$conf/processes/$type/working-dir" wd
cd "$wd" || die "cannot enter the working directory $wd of process $type"
((${#command[@]})) || die "process $type has no command"
exec "${command[@]}" "${args[@]}"
