#!/usr/bin/env bash
# A Docker engine of the tests' own: `start` runs dockerd on a unix socket in a temp folder (its data and exec roots
# there too), with no bridge, no iptables, no masquerading: bot containers run with --network=none, and nothing of
# the machine's own Docker setup is touched. Prints the export line for the tests. `stop` ends it and removes the folder.
# Usage: eval "$(bash .ci/dockerd.sh start)"; ...; bash .ci/dockerd.sh stop
set -euo pipefail
STATE=${PLUTARC_DOCKERD_DIR:-/tmp/plutarc-dockerd}

case "${1:-}" in
start)
  if [ -S "$STATE/docker.sock" ] && [ -f "$STATE/dockerd.pid" ] && kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null; then
    echo "export PLUTARC_TEST_DOCKER_SOCKET=$STATE/docker.sock"
    exit 0
  fi
  command -v dockerd >/dev/null || { echo "dockerd is not installed: apt-get install docker.io" >&2; exit 1; }
  mkdir -p "$STATE"
  dockerd --host "unix://$STATE/docker.sock" --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/dockerd.pid" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false >"$STATE/dockerd.log" 2>&1 &
  for _ in $(seq 1 600); do
    if docker -H "unix://$STATE/docker.sock" version >/dev/null 2>&1; then
      echo "export PLUTARC_TEST_DOCKER_SOCKET=$STATE/docker.sock"
      exit 0
    fi
    sleep 0.1
  done
  echo "dockerd did not answer within a minute; its log: $STATE/dockerd.log" >&2
  tail -20 "$STATE/dockerd.log" >&2
  exit 1
  ;;
stop)
  if [ -f "$STATE/dockerd.pid" ]; then
    pid=$(cat "$STATE/dockerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # Mounts dockerd left under its roots (overlay layers, netns) go before the folder does.
  grep -o " $STATE/[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$STATE"
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
