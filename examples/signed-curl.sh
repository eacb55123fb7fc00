#!/usr/bin/env bash
# A signed call to the usergroups API with nothing but bash, curl and openssl (plus od, sed,
# awk, sort and tr from coreutils): the ONLIVESITE-HMAC-SHA256 scheme of signing.md, written
# out step by step for a machine without Rust.
#
#   examples/signed-curl.sh [options] METHOD URL [curl options...]
#
#   examples/signed-curl.sh GET "http://127.0.0.1:8080/api/v1/user-groups?search=sales%20team"
#   examples/signed-curl.sh --data '{"name":"Sales"}' POST http://127.0.0.1:8080/api/v1/user-groups
#   examples/signed-curl.sh DELETE "http://127.0.0.1:8080/api/v1/user-groups/$ID" -w '\n%{http_code}\n'
#
# Options:
#   --data BODY           send BODY (as given, byte for byte) with content-type: application/json
#   --header 'Name: v'    send and sign one more header (repeatable); it joins SignedHeaders
#   --no-nonce            do not add the random signed x-onlive-site-nonce to a write
#   --date YYYYMMDDTHHMMSSZ
#                         sign for this date instead of now (for checking against worked cases)
#   --dry-run             print the headers to send, one 'Name: value' a line, and send nothing
#   --verbose             also print the canonical request and the string to sign to stderr
# Anything after URL goes to curl as it is (-i, -w, -o, ...).
#
# Credentials come from USERGROUPS_ACCESS_KEY_ID and USERGROUPS_SECRET_ACCESS_KEY (both, or
# neither) or, when they are unset, from ./usergroups-credentials.json, the file the first start writes. The secret
# never appears on a command line: the HMAC is computed here from two SHA-256 passes, so only
# the pipe into `openssl dgst` ever sees key material.
set -euo pipefail

die() {
  printf 'signed-curl.sh: %s\n' "$1" >&2
  exit 2
}

usage() { # the comment above, as help; exits with $1
  sed -n '6,21s/^# \{0,1\}//p' "$0" >&2
  exit "$1"
}

# --- arguments -------------------------------------------------------------------------------

data=
have_data=0
extra_headers=()
add_nonce=1
date_value=
dry_run=0
verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) [ $# -ge 2 ] || die "--data needs a value"; data=$2; have_data=1; shift 2 ;;
    --header) [ $# -ge 2 ] || die "--header needs a value"; extra_headers+=("$2"); shift 2 ;;
    --no-nonce) add_nonce=0; shift ;;
    --date) [ $# -ge 2 ] || die "--date needs a value"; date_value=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h | --help) usage 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (curl options go after the URL)" ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || usage 2
method=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
url=$2
shift 2

url_pattern='^(https?)://([^/?#]+)([^#]*)'
[[ $url =~ $url_pattern ]] || die "the URL must look like http://host:port/path?query"
host=${BASH_REMATCH[2]}
target=${BASH_REMATCH[3]}
case "$target" in
  *\?*) path=${target%%\?*}; query=${target#*\?} ;;
  *) path=$target; query= ;;
esac
[ -n "$path" ] || path=/
[[ $date_value =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || [ -z "$date_value" ] || die "--date must be YYYYMMDDTHHMMSSZ"
[ -n "$date_value" ] || date_value=$(date -u +%Y%m%dT%H%M%SZ)

# --- credentials -----------------------------------------------------------------------------

json_field() { # FILE NAME: the string value of "NAME" in a flat JSON object
  grep -o "\"$2\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" "$1" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'
}

key_id=${USERGROUPS_ACCESS_KEY_ID:-}
secret=${USERGROUPS_SECRET_ACCESS_KEY:-}
# Both or neither: with one alone, signing with the file's key would sign as someone else.
[ -n "$key_id" ] && [ -z "$secret" ] &&
  die "USERGROUPS_ACCESS_KEY_ID is set but USERGROUPS_SECRET_ACCESS_KEY is not: set both (or neither, to use ./usergroups-credentials.json)"
[ -z "$key_id" ] && [ -n "$secret" ] &&
  die "USERGROUPS_SECRET_ACCESS_KEY is set but USERGROUPS_ACCESS_KEY_ID is not: set both (or neither, to use ./usergroups-credentials.json)"
if [ -z "$key_id" ]; then
  file=./usergroups-credentials.json
  [ -r "$file" ] || die "set USERGROUPS_ACCESS_KEY_ID and USERGROUPS_SECRET_ACCESS_KEY, or run where $file is"
  key_id=$(json_field "$file" accessKeyId)
  secret=$(json_field "$file" secretAccessKey)
  [ -n "$key_id" ] && [ -n "$secret" ] || die "$file has no accessKeyId and secretAccessKey"
fi

# --- canonical request (signing.md §2) -------------------------------------------------------

# Reads the hex bytes od prints and writes the canonical form of a path or a query: each piece
# percent-decoded (in a query `+` is a space first; a `%` without two hex digits stays literal)
# and encoded again byte by byte, `A-Z a-z 0-9 - _ . ~` kept, every other byte as %XX
# uppercase. A path comes out with its segments joined by `/`; a query as one "name value"
# line per pair, for sorting.
canonical_awk='
function is_hex(b) {
  return (b >= "30" && b <= "39") || (b >= "41" && b <= "46") || (b >= "61" && b <= "66")
}
function nibble(b) { # the hex digit an ASCII byte spells, lowercase
  return substr(b, 1, 1) == "3" ? substr(b, 2, 1) : substr("abcdef", substr(b, 2, 1) + 0, 1)
}
function value(h) {
  return (index(HEX, substr(h, 1, 1)) - 1) * 16 + index(HEX, substr(h, 2, 1)) - 1
}
function encode(from, to, plus_is_space,    i, n, h, out) {
  out = ""
  n = 0
  for (i = from; i < to; i++) {
    h = bytes[i]
    if (plus_is_space && h == "2b") {
      h = "20"
    } else if (h == "25" && i + 2 < to && is_hex(bytes[i + 1]) && is_hex(bytes[i + 2])) {
      h = nibble(bytes[i + 1]) nibble(bytes[i + 2])
      i += 2
    }
    if ((h >= "30" && h <= "39") || (h >= "41" && h <= "5a") || (h >= "61" && h <= "7a") \
        || h == "2d" || h == "5f" || h == "2e" || h == "7e") {
      out = out sprintf("%c", value(h))
    } else {
      out = out "%" toupper(h)
    }
  }
  return out
}
BEGIN { HEX = "0123456789abcdef"; count = 0 }
{ for (f = 1; f <= NF; f++) bytes[count++] = $f }
END {
  if (mode == "path") {
    start = 0
    out = ""
    for (i = 0; i <= count; i++) {
      if (i == count || bytes[i] == "2f") {
        out = out (start > 0 ? "/" : "") encode(start, i, 0)
        start = i + 1
      }
    }
    print out
  } else {
    start = 0
    for (i = 0; i <= count; i++) {
      if (i == count || bytes[i] == "26") {
        if (i > start) {
          eq = i
          for (j = start; j < i; j++) if (bytes[j] == "3d") { eq = j; break }
          print encode(start, eq, 1) " " (eq < i ? encode(eq + 1, i, 1) : "")
        }
        start = i + 1
      }
    }
  }
}'

hex_of() { # the bytes of $1 as od prints them
  printf '%s' "$1" | od -An -v -tx1
}

canonical_uri=$(hex_of "$path" | awk -v mode=path "$canonical_awk")
# Pairs sorted by encoded name, then encoded value: a space sorts before every encoded byte,
# so sorting "name value" lines in byte order is exactly that.
canonical_query=$(hex_of "$query" | awk -v mode=query "$canonical_awk" | LC_ALL=C sort \
  | awk '{ sub(/ /, "="); printf "%s%s", (NR > 1 ? "&" : ""), $0 }')

if [ "$add_nonce" = 1 ] && [[ $method =~ ^(POST|PUT|PATCH|DELETE)$ ]]; then
  has_nonce=0
  for header in "${extra_headers[@]}"; do
    name=$(printf '%s' "${header%%:*}" | tr '[:upper:]' '[:lower:]' | tr -d ' \t')
    [ "$name" != x-onlive-site-nonce ] || has_nonce=1
  done
  # Identical writes signed in one second would share a signature and the second would be
  # refused as a replay; a random signed nonce keeps them apart.
  [ "$has_nonce" = 1 ] || extra_headers+=("x-onlive-site-nonce: $(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')")
fi

# Every header to send and sign, in order: names lowercased, values as given.
names=(host x-onlive-site-date)
values=("$host" "$date_value")
has_content_type=0
token_pattern="^[a-z0-9!#\$%&'*+.^_\`|~-]+\$"
for header in "${extra_headers[@]}"; do
  case "$header" in *:*) ;; *) die "--header '$header' is not 'Name: value'" ;; esac
  name=$(printf '%s' "${header%%:*}" | tr '[:upper:]' '[:lower:]')
  name=${name#"${name%%[![:space:]]*}"}
  name=${name%"${name##*[![:space:]]}"}
  [[ $name =~ $token_pattern ]] || die "--header '$header' has no valid name"
  case "$name" in host | x-onlive-site-date | authorization) die "--header cannot set $name" ;; esac
  [ "$name" != content-type ] || has_content_type=1
  names+=("$name")
  values+=("${header#*:}")
done

fold() { # trim spaces and tabs, and fold each inner run into one space (signing.md §2)
  local folded
  folded=$(printf '%s' "$1" | tr '\t' ' ' | tr -s ' ')
  folded=${folded# }
  printf '%s' "${folded% }"
}

signed_headers=$(printf '%s\n' "${names[@]}" | LC_ALL=C sort -u | paste -sd ';' -)
canonical_headers=
IFS=';' read -r -a signed_list <<<"$signed_headers"
for signed in "${signed_list[@]}"; do
  line="$signed:"
  first=1
  for i in "${!names[@]}"; do
    if [ "${names[$i]}" = "$signed" ]; then
      [ "$first" = 1 ] || line+=","
      line+=$(fold "${values[$i]}")
      first=0
    fi
  done
  canonical_headers+="$line"$'\n'
done

sha256_hex() { # the lowercase hex SHA-256 of stdin
  openssl dgst -sha256 | awk '{ print $NF }'
}

body_hash=$(printf '%s' "$data" | sha256_hex)
canonical_request="$method"$'\n'"$canonical_uri"$'\n'"$canonical_query"$'\n'"$canonical_headers"$'\n'"$signed_headers"$'\n'"$body_hash"

# --- string to sign and signature (signing.md §3) --------------------------------------------

string_to_sign="ONLIVESITE-HMAC-SHA256"$'\n'"$date_value"$'\n'$(printf '%s' "$canonical_request" | sha256_hex)

hmac_sha256_hex() { # KEY MESSAGE: HMAC-SHA256 (RFC 2104) from two SHA-256 passes
  local key_hex inner ipad= opad= escape i byte
  key_hex=$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n')
  if [ "${#key_hex}" -gt 128 ]; then
    key_hex=$(printf '%s' "$1" | sha256_hex)
  fi
  while [ "${#key_hex}" -lt 128 ]; do key_hex+=00; done
  for ((i = 0; i < 128; i += 2)); do
    byte=$((16#${key_hex:i:2}))
    printf -v escape '\\x%02x' $((byte ^ 0x36))
    ipad+=$escape
    printf -v escape '\\x%02x' $((byte ^ 0x5c))
    opad+=$escape
  done
  # shellcheck disable=SC2059 # the formats are \xHH escapes built just above
  inner=$({ printf "$ipad"; printf '%s' "$2"; } | openssl dgst -sha256 -binary | od -An -v -tx1 | tr -d ' \n')
  # shellcheck disable=SC2059
  { printf "$opad"; printf "$(printf '%s' "$inner" | sed 's/../\\x&/g')"; } | sha256_hex
}

signature=$(hmac_sha256_hex "$secret" "$string_to_sign")
if [ "${#names[@]}" -gt 2 ]; then
  authorization="ONLIVESITE Credential:$key_id, SignedHeaders=$signed_headers, Signature=$signature"
else
  authorization="ONLIVESITE Credential:$key_id, Signature=$signature"
fi

if [ "$verbose" = 1 ]; then
  printf -- '--- canonical request\n%s\n--- string to sign\n%s\n' "$canonical_request" "$string_to_sign" >&2
fi

# --- the request -----------------------------------------------------------------------------

headers=()
for i in "${!names[@]}"; do headers+=("${names[$i]}: ${values[$i]# }"); done
headers+=("authorization: $authorization")
if [ "$have_data" = 1 ] && [ "$has_content_type" = 0 ]; then
  headers+=("content-type: application/json")
fi

if [ "$dry_run" = 1 ]; then
  printf '%s\n' "${headers[@]}"
  exit 0
fi

curl_args=(--silent --show-error --globoff --path-as-is --request "$method" --header 'Expect:')
for header in "${headers[@]}"; do
  # curl drops a header given as "name:" and sends an empty one given as "name;".
  if [ -z "$(fold "${header#*:}")" ]; then header="${header%%:*};"; fi
  curl_args+=(--header "$header")
done
[ "$have_data" = 0 ] || curl_args+=(--data-raw "$data")
exec curl "${curl_args[@]}" "$@" --url "$url"
