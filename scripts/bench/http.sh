#!/usr/bin/env bash
# Requests per second and latency for OPTIONS and a provisioned Settings
# request over TLS with keep-alive on loopback, measured with wrk (Debian's
# package wrk). Usage: scripts/bench/http.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
conns=${2:-32}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "needs curl: apt-get install curl" >&2; exit 1; }

cargo build --release -q -p eas-server
B=$PWD/target/release/eas-server
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

echo 'bench password' | $B --data "$work/data" user add bench --email bench@example.com --password-stdin >/dev/null
$B --data "$work/data" serve --listen 127.0.0.1:0 > "$work/serve.log" 2>"$work/serve.err" &
server=$!
# Wait for the banner line, not a fixed time.
for _ in $(seq 1 200); do
  url=$(sed -n 's/^eas-server listening on \(https:[^ ]*\).*/\1/p' "$work/serve.log")
  [ -n "$url" ] && break
  sleep 0.05
done
[ -n "$url" ] || { echo "server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
eas="$url/Microsoft-Server-ActiveSync"
auth=$(printf 'bench:bench password' | base64)
query="Cmd=Provision&User=bench&DeviceId=BENCH0001&DeviceType=Bench"

post() { # command xml-file -> decoded xml of the response
  $B wbxml encode "$2" -o "$work/req.wbxml"
  curl -sk --fail -H "Authorization: Basic $auth" -H 'MS-ASProtocolVersion: 16.1' \
    -H "X-MS-PolicyKey: ${key:-0}" -H 'Content-Type: application/vnd.ms-sync.wbxml' \
    --data-binary @"$work/req.wbxml" "$eas?Cmd=$1&User=bench&DeviceId=BENCH0001&DeviceType=Bench" -o "$work/resp.wbxml"
  $B wbxml decode "$work/resp.wbxml"
}
cat > "$work/p1.xml" <<'XML'
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>
XML
key=$(post Provision "$work/p1.xml" | sed -n 's/.*<PolicyKey>\([0-9]*\)<\/PolicyKey>.*/\1/p')
cat > "$work/p2.xml" <<XML
<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>$key</PolicyKey><Status>1</Status></Policy></Policies></Provision>
XML
key=$(post Provision "$work/p2.xml" | sed -n 's/.*<PolicyKey>\([0-9]*\)<\/PolicyKey>.*/\1/p')
cat > "$work/settings.xml" <<'XML'
<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>
XML
post Settings "$work/settings.xml" | grep -q '<PrimarySmtpAddress>bench@example.com' || { echo "Settings did not answer" >&2; exit 1; }
$B wbxml encode "$work/settings.xml" -o "$work/settings.wbxml"

cat > "$work/settings.lua" <<LUA
local f = io.open("$work/settings.wbxml", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["MS-ASProtocolVersion"] = "16.1"
wrk.headers["X-MS-PolicyKey"] = "$key"
wrk.headers["Content-Type"] = "application/vnd.ms-sync.wbxml"
wrk.path = "/Microsoft-Server-ActiveSync?Cmd=Settings&User=bench&DeviceId=BENCH0001&DeviceType=Bench"
LUA
cat > "$work/options.lua" <<LUA
wrk.method = "OPTIONS"
wrk.headers["Authorization"] = "Basic $auth"
wrk.path = "/Microsoft-Server-ActiveSync"
LUA

echo "== $(nproc) cores, $conns connections, 2 wrk threads, ${secs}s each, TLS keep-alive on loopback"
echo "== OPTIONS"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/options.lua" "$url"
echo "== Settings (UserInformation Get, provisioned, 16.1)"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/settings.lua" "$url"
