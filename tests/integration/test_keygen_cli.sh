#!/usr/bin/env bash
# `netscope keygen NAME`: the two files and their modes (even under umask 000), the printed
# fingerprint checked against SHA-256 of the Z85-decoded public key (computed here in Python),
# no overwrite without --force, and the exit status of each kind of error.
set -u
: "${NS_BIN:?}"
command -v python3 >/dev/null || { echo "skip: python3 not found"; exit 77; }
pass=0 fail=0
ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS PATTERN -- ARGS: keygen exits with STATUS and stderr matches PATTERN
expect() {
  local want=$1 pattern=$2; shift 3
  "$NS_BIN" keygen "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne $want ]]; then bad "keygen $*: exit $rc, want $want ($(head -c 200 "$tmp/err"))"; return; fi
  if ! grep -qiE "$pattern" "$tmp/err"; then bad "keygen $*: stderr lacks /$pattern/: $(head -c 200 "$tmp/err")"; return; fi
  ok
}

mode() { stat -c %a "$1"; }

(umask 000 && "$NS_BIN" keygen "$tmp/agent" >"$tmp/out" 2>"$tmp/err") && ok || bad "keygen agent: $(cat "$tmp/err")"
[[ $(mode "$tmp/agent.key_secret") == 600 ]] && ok || bad "secret mode $(mode "$tmp/agent.key_secret")"
[[ $(mode "$tmp/agent.key") == 644 ]] && ok || bad "public mode $(mode "$tmp/agent.key")"
grep -qx "public key:  $tmp/agent.key" "$tmp/out" && ok || bad "output lacks the public path: $(cat "$tmp/out")"
grep -qx "secret key:  $tmp/agent.key_secret" "$tmp/out" && ok || bad "output lacks the secret path"
grep -q 'secret-key' "$tmp/agent.key" && bad "public file holds the secret key" || ok
[[ $(ls -A "$tmp" | wc -l) -eq 4 ]] && ok || bad "stray files: $(ls -A "$tmp")" # 2 keys, out, err

printed=$(sed -n 's/^fingerprint: //p' "$tmp/out")
expected=$(python3 - "$tmp/agent.key" <<'EOF'
import hashlib, re, sys
alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
text = re.search(r'public-key = "(.{40})"', open(sys.argv[1]).read()).group(1)
raw = b""
for i in range(0, 40, 5):
    v = 0
    for c in text[i:i + 5]:
        v = v * 85 + alphabet.index(c)
    raw += v.to_bytes(4, "big")
print(hashlib.sha256(raw).hexdigest()[:16])
EOF
)
[[ -n $printed && $printed == "$expected" ]] && ok || bad "fingerprint '$printed', want '$expected'"

before=$(cat "$tmp/agent.key_secret")
expect 1 'already exists' -- "$tmp/agent"
[[ $(cat "$tmp/agent.key_secret") == "$before" ]] && ok || bad "secret changed without --force"
"$NS_BIN" keygen --force "$tmp/agent" >/dev/null 2>&1 && ok || bad "--force failed"
[[ $(cat "$tmp/agent.key_secret") != "$before" ]] && ok || bad "--force did not replace the key"
[[ $(mode "$tmp/agent.key_secret") == 600 ]] && ok || bad "secret mode after --force"

expect 1 'cannot create .*No such file' -- "$tmp/no-such-dir/agent"
[[ $(wc -l <"$tmp/err") -eq 1 ]] && ok || bad "error is not one line: $(cat "$tmp/err")"
expect 2 'exactly one NAME' --
expect 2 'exactly one NAME' -- a b
expect 2 'unknown option' -- --frobnicate a
"$NS_BIN" keygen --help | grep -q -- '--force' && ok || bad "keygen --help"
"$NS_BIN" --help | grep -q 'keygen' && ok || bad "netscope --help lacks keygen"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
