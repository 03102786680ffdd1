# Semantic versions and node-semver ranges, in jq (1.6 and newer). Used by toolforge/nodejs to pick the
# Node.js release an app asks for (engines.node, .nvmrc) and the npm release that fits it.
#
#   include "semver";                      (jq -L <buildpack>/lib)
#   "v1.2.3-rc.1" | semver_parse           → {"v":[1,2,3],"pre":["rc",1],"raw":"v1.2.3-rc.1"} (null: invalid)
#   semver_cmp($a; $b)                     → -1, 0, 1 (parsed versions; precedence per semver.org)
#   "^1.2 || >=3" | semver_range           → [[comparator…]…]: OR of ANDs; errors on an invalid range
#   "1.4.0" | semver_satisfies("^1.2")     → true
#   ["1.2.0","1.3.0"] | semver_max_satisfying("~1.2") → "1.2.0" (null when nothing satisfies)
#
# Ranges follow node-semver (what npm uses for engines): `*`/`x`/empty, exact (`1.2.3`, `=1.2.3`,
# `v1.2.3`), partial / X-ranges (`1`, `1.2`, `18.x`, `1.2.*`), `^`, `~` (and `~>`), `>=`/`<=`/`>`/`<`,
# space-separated AND, `||`, hyphen ranges (`1.2 - 2.3.4`). A prerelease version only satisfies a range
# when some comparator of the matching AND-set names a prerelease of the same major.minor.patch.
#
# A comparator is {"op": ">="|">"|"<="|"<"|"=", "v": [M,m,p], "pre": [...]}. An empty AND-set matches
# every release; the impossible comparator is "<0.0.0-0".

def _semver_ids:
  if . == null or . == "" then [] else split(".") | map(if test("^[0-9]+$") then tonumber else . end) end;

# A full version: optional leading "=" / "v", MAJOR.MINOR.PATCH, optional -prerelease and +build.
def semver_parse:
  if type != "string" then null
  else
    (capture("^\\s*=?\\s*[vV]?(?<M>0|[1-9][0-9]*)\\.(?<m>0|[1-9][0-9]*)\\.(?<p>0|[1-9][0-9]*)(-(?<pre>[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*))?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?\\s*$")
      // null) as $c
    | if $c == null then null
      else {v: [($c.M | tonumber), ($c.m | tonumber), ($c.p | tonumber)], pre: ($c.pre | _semver_ids), raw: .}
      end
  end;

# -1 / 0 / 1. jq orders arrays element-wise and numbers before strings, which is semver's precedence for
# both the release triple and prerelease identifiers (a shorter prefix comes first).
def semver_cmp($a; $b):
  if $a.v < $b.v then -1
  elif $a.v > $b.v then 1
  elif ($a.pre | length) == 0 and ($b.pre | length) == 0 then 0
  elif ($a.pre | length) == 0 then 1
  elif ($b.pre | length) == 0 then -1
  elif $a.pre < $b.pre then -1
  elif $a.pre > $b.pre then 1
  else 0
  end;

# A partial version "1", "1.2", "1.x", "*", "v1.2.3-rc.1": {M, m, p, pre} with null for a wildcard/missing
# part (everything after a wildcard is a wildcard too). null when not a version at all.
def _semver_partial:
  (capture("^[vV=]?\\s*(?<M>0|[1-9][0-9]*|[xX*])(\\.(?<m>0|[1-9][0-9]*|[xX*])(\\.(?<p>0|[1-9][0-9]*|[xX*])(-(?<pre>[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*))?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?)?)?$")
    // null)
  | if . == null then null
    else
      def num: if . == null or test("^[xX*]$") then null else tonumber end;
      (.M | num) as $M
      | (if $M == null then null else (.m | num) end) as $m
      | (if $m == null then null else (.p | num) end) as $p
      | {M: $M, m: $m, p: $p, pre: (if $p == null then [] else (.pre | _semver_ids) end)}
    end;

def _cmp($op; $v; $pre): {op: $op, v: $v, pre: $pre};
def _none: [_cmp("<"; [0, 0, 0]; [0])];

# One range token (operator + partial version) → list of comparators.
def _semver_token:
  . as $tok
  | (capture("^(?<op><=|>=|<|>|=|~>|~|\\^)?(?<ver>.*)$")) as $c
  | ($c.ver | _semver_partial) as $x
  | if $x == null then error("invalid version range: \"\($tok)\" is not a version")
    else
      ($x.M) as $M | ($x.m) as $m | ($x.p) as $p | ($x.pre) as $pre
      | ($c.op // "=") as $op
      | if $op == "=" then
          if $M == null then []
          elif $m == null then [_cmp(">="; [$M, 0, 0]; []), _cmp("<"; [$M + 1, 0, 0]; [0])]
          elif $p == null then [_cmp(">="; [$M, $m, 0]; []), _cmp("<"; [$M, $m + 1, 0]; [0])]
          else [_cmp("="; [$M, $m, $p]; $pre)]
          end
        elif $op == ">=" then
          if $M == null then [] else [_cmp(">="; [$M, ($m // 0), ($p // 0)]; $pre)] end
        elif $op == ">" then
          if $M == null then _none
          elif $m == null then [_cmp(">="; [$M + 1, 0, 0]; [])]
          elif $p == null then [_cmp(">="; [$M, $m + 1, 0]; [])]
          else [_cmp(">"; [$M, $m, $p]; $pre)]
          end
        elif $op == "<" then
          if $M == null then _none
          elif $m == null then [_cmp("<"; [$M, 0, 0]; [0])]
          elif $p == null then [_cmp("<"; [$M, $m, 0]; [0])]
          else [_cmp("<"; [$M, $m, $p]; $pre)]
          end
        elif $op == "<=" then
          if $M == null then []
          elif $m == null then [_cmp("<"; [$M + 1, 0, 0]; [0])]
          elif $p == null then [_cmp("<"; [$M, $m + 1, 0]; [0])]
          else [_cmp("<="; [$M, $m, $p]; $pre)]
          end
        elif $op == "~" or $op == "~>" then
          if $M == null then []
          elif $m == null then [_cmp(">="; [$M, 0, 0]; []), _cmp("<"; [$M + 1, 0, 0]; [0])]
          else [_cmp(">="; [$M, $m, ($p // 0)]; $pre), _cmp("<"; [$M, $m + 1, 0]; [0])]
          end
        else # ^
          if $M == null then []
          elif $m == null then [_cmp(">="; [$M, 0, 0]; []), _cmp("<"; [$M + 1, 0, 0]; [0])]
          elif $M > 0 then [_cmp(">="; [$M, $m, ($p // 0)]; $pre), _cmp("<"; [$M + 1, 0, 0]; [0])]
          elif $m > 0 or $p == null then [_cmp(">="; [0, $m, ($p // 0)]; $pre), _cmp("<"; [0, $m + 1, 0]; [0])]
          else [_cmp(">="; [0, 0, $p]; $pre), _cmp("<"; [0, 0, $p + 1]; [0])]
          end
        end
    end;

# "A - B": >=A (missing parts 0) and <=B (a partial B allows everything it covers).
def _semver_hyphen($from; $to):
  ($from | _semver_partial) as $a
  | ($to | _semver_partial) as $b
  | if $a == null or $b == null then error("invalid version range: \"\($from) - \($to)\"")
    else
      (if $a.M == null then [] else [_cmp(">="; [$a.M, ($a.m // 0), ($a.p // 0)]; $a.pre)] end)
      + (if $b.M == null then []
         elif $b.m == null then [_cmp("<"; [$b.M + 1, 0, 0]; [0])]
         elif $b.p == null then [_cmp("<"; [$b.M, $b.m + 1, 0]; [0])]
         else [_cmp("<="; [$b.M, $b.m, $b.p]; $b.pre)]
         end)
    end;

# One AND-set ("" or "*" matches every release).
def _semver_set:
  . as $s
  | (capture("^\\s*(?<a>\\S+)\\s+-\\s+(?<b>\\S+)\\s*$") // null) as $h
  | if $h != null then _semver_hyphen($h.a; $h.b)
    else
      # Glue operators to their version ("> = 1" is not allowed, ">= 1.2" is), then split on blanks.
      gsub("(?<op><=|>=|<|>|=|~>|~|\\^)\\s+"; "\(.op)")
      | [splits("\\s+") | select(length > 0)]
      | map(_semver_token) | add // []
    end;

def semver_range:
  if type != "string" then error("invalid version range: \(tojson) is not a string")
  elif test("^\\s*$") then [[]]
  else [split("||")[] | _semver_set]
  end;

def _semver_test($c):
  semver_cmp(.; $c) as $r
  | if $c.op == ">=" then $r >= 0
    elif $c.op == ">" then $r > 0
    elif $c.op == "<=" then $r <= 0
    elif $c.op == "<" then $r < 0
    else $r == 0
    end;

# Does a parsed version satisfy an AND-set?
def _semver_in_set($set):
  . as $v
  | all($set[]; . as $c | $v | _semver_test($c))
    and (($v.pre | length) == 0 or any($set[]; (.pre | length) > 0 and .v == $v.v));

# Does a parsed version satisfy a parsed range?
def semver_parsed_satisfies($range):
  . as $v | any($range[]; . as $set | $v | _semver_in_set($set));

# Input: a version string. False (not an error) when the input is not a version.
def semver_satisfies($range):
  semver_parse as $v
  | if $v == null then false else ($range | semver_range) as $r | $v | semver_parsed_satisfies($r) end;

def semver_sort_key: [.v, ((.pre | length) == 0), .pre];

# Input: an array of version strings. The highest that satisfies the range, or null.
def semver_max_satisfying($range):
  ($range | semver_range) as $r
  | [.[] | semver_parse | select(. != null) | select(semver_parsed_satisfies($r))]
  | if length == 0 then null else max_by(semver_sort_key).raw end;
