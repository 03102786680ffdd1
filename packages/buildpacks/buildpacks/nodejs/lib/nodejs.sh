# shellcheck shell=bash
# Shared by toolforge/nodejs's bin/detect and bin/build (sourced, cwd = the app).

# The Node.js major line used when the app asks for nothing.
NODE_DEFAULT_MAJOR=24

# TOML basic string: escape backslashes, quotes and control characters.
toml_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/}
  printf '"%s"' "$s"
}

# What Node.js version the app asks for: engines.node in package.json, else the first line of .nvmrc
# (or .node-version) that is not blank or a comment, else the default major line. Sets node_request (as
# written) and node_source (where it was found), for the script that sources this file.
# shellcheck disable=SC2034
node_version_request() {
  node_request="" node_source=""
  local engines line f
  engines=$(jq -r 'if type == "object" and (.engines | type) == "object" and .engines.node != null
                   then .engines.node | tostring else empty end' package.json 2>/dev/null) || engines=""
  if [[ -n "${engines//[[:space:]]/}" ]]; then
    node_request=$engines
    node_source="engines.node in package.json"
    return 0
  fi
  for f in .nvmrc .node-version; do
    [[ -f $f ]] || continue
    line=$(grep -v -E '^[[:space:]]*(#|$)' "$f" | head -n 1 || true)
    line=${line%%#*}
    line=${line//$'\r'/}
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    if [[ -n $line ]]; then
      node_request=$line
      node_source=$f
      return 0
    fi
  done
  node_request="$NODE_DEFAULT_MAJOR.x"
  node_source="the buildpack's default"
}
